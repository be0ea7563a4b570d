package corpus

import (
	"image"
	"math"
)

// MaxPSNR is the PSNR, in dB, that [PSNR] reports for identical images
// (whose true PSNR is infinite), so that means and CSV cells stay finite.
const MaxPSNR = 100

// PSNR returns the peak signal-to-noise ratio of b against a, in dB, over
// the R, G and B channels: 10·log10(255² / MSE), capped at [MaxPSNR]. The
// images must have the same size; it returns NaN otherwise.
func PSNR(a, b image.Image) float64 {
	ra, rb := ToRGBA(a), ToRGBA(b)
	if ra.Rect.Size() != rb.Rect.Size() {
		return math.NaN()
	}
	var se float64
	for i := 0; i < len(ra.Pix); i += 4 {
		for c := range 3 {
			d := float64(ra.Pix[i+c]) - float64(rb.Pix[i+c])
			se += d * d
		}
	}
	n := float64(3 * len(ra.Pix) / 4)
	if se == 0 || n == 0 {
		return MaxPSNR
	}
	return math.Min(MaxPSNR, 10*math.Log10(255*255/(se/n)))
}

// SSIM returns the mean structural similarity of b against a on BT.601
// luma (Wang, Bovik, Sheikh and Simoncelli, "Image quality assessment:
// from error visibility to structural similarity", IEEE TIP 13(4), 2004,
// eq. 13 with K1 = 0.01, K2 = 0.03, L = 255), over 8×8 windows at a stride
// of 4 pixels with uniform weights, rather than the paper's 11×11
// Gaussian window. 1 means identical. The images must have the same size;
// it returns NaN otherwise, and 1 for images smaller than a window.
func SSIM(a, b image.Image) float64 {
	ra, rb := ToRGBA(a), ToRGBA(b)
	if ra.Rect.Size() != rb.Rect.Size() {
		return math.NaN()
	}
	w, h := ra.Rect.Dx(), ra.Rect.Dy()
	la, lb := lumaPlane(ra), lumaPlane(rb)
	const win, stride = 8, 4
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	var sum float64
	var n int
	for y := 0; y+win <= h; y += stride {
		for x := 0; x+win <= w; x += stride {
			var ma, mb, va, vb, cov float64
			for j := range win {
				for i := range win {
					pa, pb := la[(y+j)*w+x+i], lb[(y+j)*w+x+i]
					ma += pa
					mb += pb
					va += pa * pa
					vb += pb * pb
					cov += pa * pb
				}
			}
			const k = win * win
			ma, mb = ma/k, mb/k
			va = va/k - ma*ma
			vb = vb/k - mb*mb
			cov = cov/k - ma*mb
			sum += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

func lumaPlane(m *image.RGBA) []float64 {
	out := make([]float64, len(m.Pix)/4)
	for i := range out {
		p := m.Pix[4*i:]
		out[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	return out
}
