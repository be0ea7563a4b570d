package behavior

import (
	"errors"
	"fmt"
	"math"

	"scanlab"
)

// NumInputs is the number of model inputs derived from [Features] (see
// [Inputs]).
const NumInputs = 9

// InputNames names the model inputs in the order of [Inputs].
var InputNames = [NumInputs]string{
	"log1p(stranger minors)", "log1p(distant minors)", "stranger share",
	"log1p(max burst)", "new account", "log1p(reports)",
	"log1p(minor recipients)", "log1p(stranger adults)", "log1p(recipients)",
}

// Inputs maps features to the model's inputs: counts on a log scale, shares
// and indicators as they are.
func Inputs(f Features) [NumInputs]float64 {
	l := func(n int) float64 { return math.Log1p(float64(n)) }
	b := 0.0
	if f.NewAccount {
		b = 1
	}
	return [NumInputs]float64{
		l(f.StrangerMinors), l(f.DistantMinors), f.StrangerShare(),
		l(f.MaxBurst), b, l(f.Reports),
		l(f.MinorRecipients), l(f.StrangerAdults), l(f.Recipients),
	}
}

// Model is a logistic regression over standardised [Inputs]: the probability
// that an account is an offender is σ(Bias + Σ Weights[i]·(x[i]−Mean[i])/Scale[i]).
type Model struct {
	Weights [NumInputs]float64
	Bias    float64
	Mean    [NumInputs]float64
	Scale   [NumInputs]float64
}

// Prob returns the model's probability that an account with features f is
// an offender.
func (m *Model) Prob(f Features) float64 {
	x := Inputs(f)
	z := m.Bias
	for i := range x {
		z += m.Weights[i] * (x[i] - m.Mean[i]) / m.Scale[i]
	}
	return 1 / (1 + math.Exp(-z))
}

// TrainConfig configures [Train]. Zero fields take their defaults.
type TrainConfig struct {
	// Epochs is the number of full-batch gradient steps. Default 2000.
	Epochs int
	// LearnRate is the step size. Default 0.5.
	LearnRate float64
	// L2 is the ridge penalty on the weights (not the bias). Default 0.01.
	L2 float64
}

// Example is one training account: its ID, features and whether it is an
// offender.
type Example struct {
	Account  scanlab.UserID
	Features Features
	Offender bool
}

// ErrOneClass is returned by [Train] when the examples hold no offender or
// no benign account.
var ErrOneClass = errors.New("behavior: training needs both offenders and benign accounts")

// Train fits a [Model] to examples by full-batch gradient descent on the
// class-balanced, L2-penalised logistic loss (offenders and benign accounts
// weigh the same in total, since offenders are rare). It is deterministic.
// The examples must come from accounts disjoint from those the model is
// evaluated on; [Split] makes such a division.
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	if cfg.Epochs <= 0 {
		cfg.Epochs = 2000
	}
	if cfg.LearnRate <= 0 {
		cfg.LearnRate = 0.5
	}
	if cfg.L2 < 0 {
		return nil, fmt.Errorf("behavior: negative L2 penalty %v", cfg.L2)
	}
	if cfg.L2 == 0 {
		cfg.L2 = 0.01
	}
	var pos, neg int
	for _, e := range examples {
		if e.Offender {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return nil, ErrOneClass
	}
	m := &Model{}
	xs := make([][NumInputs]float64, len(examples))
	for k, e := range examples {
		xs[k] = Inputs(e.Features)
		for i, v := range xs[k] {
			m.Mean[i] += v
		}
	}
	n := float64(len(examples))
	for i := range m.Mean {
		m.Mean[i] /= n
	}
	for _, x := range xs {
		for i, v := range x {
			m.Scale[i] += (v - m.Mean[i]) * (v - m.Mean[i])
		}
	}
	for i := range m.Scale {
		m.Scale[i] = math.Sqrt(m.Scale[i] / n)
		if m.Scale[i] < 1e-9 {
			m.Scale[i] = 1 // a constant input: leave it unscaled
		}
	}
	for k := range xs {
		for i := range xs[k] {
			xs[k][i] = (xs[k][i] - m.Mean[i]) / m.Scale[i]
		}
	}
	wPos, wNeg := 0.5/float64(pos), 0.5/float64(neg)
	for range cfg.Epochs {
		var gw [NumInputs]float64
		var gb float64
		for k, x := range xs {
			z := m.Bias
			for i := range x {
				z += m.Weights[i] * x[i]
			}
			p := 1 / (1 + math.Exp(-z))
			y, w := 0.0, wNeg
			if examples[k].Offender {
				y, w = 1, wPos
			}
			g := w * (p - y)
			for i := range x {
				gw[i] += g * x[i]
			}
			gb += g
		}
		for i := range m.Weights {
			m.Weights[i] -= cfg.LearnRate * (gw[i] + cfg.L2*m.Weights[i])
		}
		m.Bias -= cfg.LearnRate * gb
	}
	return m, nil
}
