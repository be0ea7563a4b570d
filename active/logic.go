package active

import (
	"slices"

	"scanlab"
	"scanlab/e2ee"
)

// Mode returns inner with its server logic wrapped by the provider's:
// every envelope passes through the provider's hands before the mode's
// logic tags and stores it. Devices are inner's own.
func (p *Provider) Mode(inner scanlab.Mode) scanlab.Mode { return &mode{Mode: inner, p: p} }

type mode struct {
	scanlab.Mode
	p *Provider
}

func (m *mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	l, err := m.Mode.NewServer(env)
	if err != nil {
		return nil, err
	}
	w := &logic{inner: l, p: m.p}
	issuer, ok := l.(scanlab.CertificateIssuer)
	if !ok {
		return w, nil
	}
	m.p.mu.Lock()
	m.p.issuer = issuer
	if k, ok := l.(certificateKeyer); ok {
		m.p.certKey = k.CertificateKey()
	}
	m.p.mu.Unlock()
	return &issuingLogic{logic: w, issuer: issuer}, nil
}

// logic is the mode's server logic with the provider's interception first.
type logic struct {
	inner scanlab.ServerLogic
	p     *Provider
}

func (l *logic) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	l.p.intercept(e)
	return l.inner.Accept(e)
}

func (l *logic) Verify(r scanlab.Report) ([]scanlab.Detection, error) { return l.inner.Verify(r) }

// issuingLogic is logic whose inner logic issues sender certificates.
type issuingLogic struct {
	*logic
	issuer scanlab.CertificateIssuer
}

func (l *issuingLogic) IssueCertificate(user scanlab.UserID, identity []byte) ([]byte, error) {
	return l.issuer.IssueCertificate(user, identity)
}

// intercept lets the provider's devices at the envelope: a ghost opens
// its copy; an impostor of the recipient opens the envelope and an
// impostor of the sender re-encrypts it to the real recipient in its
// place, keeping the mode's other attachments (a safety voucher).
func (p *Provider) intercept(e *scanlab.Envelope) {
	p.mu.Lock()
	started := p.started
	ghost := p.ghosts[e.To]
	var imps []*ownDevice
	for k, d := range p.impostors {
		if k[1] == e.To {
			imps = append(imps, d)
		}
	}
	p.mu.Unlock()
	if !started {
		return
	}
	if ghost != nil {
		if m, err := ghost.d.Open(*e); err == nil {
			p.record(RouteGhost, m)
		}
	}
	for _, imp := range imps {
		m, err := imp.d.Open(*e)
		if err != nil {
			continue
		}
		p.record(RouteSubstitute, m)
		p.mu.Lock()
		fwd := p.impostors[[2]scanlab.UserID{e.To, m.From}]
		p.mu.Unlock()
		if fwd == nil {
			return
		}
		if ne, err := fwd.d.SealWith(m, modeAttachments(e.Attach)); err == nil {
			*e = ne
		}
		return
	}
}

// e2eeAttachments are the attachments e2ee itself writes.
var e2eeAttachments = []string{e2ee.AttachInit, e2ee.AttachCommitment, e2ee.AttachTag, e2ee.AttachSender, e2ee.AttachDevices}

// modeAttachments returns the attachments another mode added beside
// e2ee's own (clientscan's voucher).
func modeAttachments(a map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range a {
		if !slices.Contains(e2eeAttachments, k) {
			out[k] = v
		}
	}
	return out
}

// record hands a decrypted message to Config.Recovered.
func (p *Provider) record(route string, m scanlab.Message) {
	if p.cfg.Recovered == nil {
		return
	}
	data := []byte(m.Content.Text)
	if m.Content.Kind == scanlab.Image {
		data = m.Content.Image
	}
	p.cfg.Recovered(route, data, map[string]string{"message": m.ID, "from": string(m.From), "to": string(m.To)})
}
