package schema

import (
	"strings"
	"testing"
)

// TestFalseMatchRowsRefused feeds each falsematch file a row that
// contradicts itself or the vocabulary: the reader must refuse it, naming
// the line and what is wrong.
func TestFalseMatchRowsRefused(t *testing.T) {
	rateHeader := "benign,hash,drawn,distinct,images,matches,list_size,list_sources,threshold,rate,lo,hi,upper_95\n"
	curveHeader := "library,t,p_image,basis,log10_p_account,p_account\n"
	cases := []struct {
		name, want string
		read       func() error
	}{
		{"rate/more-matches-than-images", "matches 5, images 4",
			func() error { return readString(ImageRate, rateHeader+"generated,pdq,10,10,4,5,68,10,31,1,0,1,1\n") }},
		{"rate/outside-interval", "rate 0.5 outside its interval",
			func() error {
				return readString(ImageRate, rateHeader+"generated,pdq,10,10,4,2,68,10,31,0.5,0.6,0.9,0.8\n")
			}},
		{"rate/unknown-benign", `"photos" is not one of generated`,
			func() error { return readString(ImageRate, rateHeader+"photos,pdq,10,10,4,0,68,10,31,0,0,0.5,0.5\n") }},
		{"distances/too-far", "distance 300 exceeds 256",
			func() error { return readString(Distances, "set,distance,count\npairs/generated,300,1\n") }},
		{"curve/not-the-power", "is not 10^-3",
			func() error { return readString(Curve, curveHeader+"1000,30,0.001,sweep,-3,0.01\n") }},
		{"curve/positive-log", "outside [-Inf, 0]",
			func() error { return readString(Curve, curveHeader+"1000,30,0.001,sweep,0.5,1\n") }},
		{"curve/t-zero", "must be positive",
			func() error { return readString(Curve, curveHeader+"1000,0,0.001,sweep,-3,0.001\n") }},
		{"curve/underflow-with-value", "probability 0.5, but its log10 is -400",
			func() error { return readString(Curve, curveHeader+"1000,3,0.001,sweep,-400,0.5\n") }},
		{"safe/not-the-power", "is not 10^-4",
			func() error {
				return readString(SafeRates, "library,t,target,log10_max_p_image,max_p_image\n1000,1,1e-12,-4,0.5\n")
			}},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			err := c.read()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), ":2:") {
				t.Fatalf("error %v, want one naming line 2 and containing %q", err, c.want)
			}
		})
	}
}

func readString[R any](f *File[R], s string) error {
	_, err := f.Read(strings.NewReader(s), f.Path)
	return err
}
