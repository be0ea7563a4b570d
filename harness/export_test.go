package harness

import (
	"scanlab"
	"scanlab/relay/wire"
)

// SendEnvelope hands env to the provider over user's link as it is, for
// tests of what the provider refuses.
func SendEnvelope(w *World, user scanlab.UserID, env scanlab.Envelope) (wire.Receipt, error) {
	ep, err := w.endpoint(user)
	if err != nil {
		return wire.Receipt{}, err
	}
	return ep.link.send(env)
}
