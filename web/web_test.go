package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"scanlab/experiments"
)

func post(t *testing.T, srv *httptest.Server, text string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+"/", url.Values{"text": {text}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemoPage runs a typed message through the real modes and checks the
// page reports the measured matrix.
func TestDemoPage(t *testing.T) {
	srv := httptest.NewServer(Handler(experiments.Demonstrate, nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `<textarea name="text"`) {
		t.Fatalf("GET /: %d %s", resp.StatusCode, b)
	}
	code, page := post(t, srv, "see you at the station at six <b>bring snacks</b>")
	if code != 200 {
		t.Fatalf("POST: %d %s", code, page)
	}
	if strings.Contains(page, "<b>bring snacks</b>") {
		t.Fatal("the typed text was not escaped")
	}
	cases := map[string]string{
		"serverscan/provider/text":     "true",
		"serverscan/db-thief/text":     "false",
		"e2ee/provider/text":           "false",
		"e2ee/recipient/text":          "true",
		"e2ee/provider/recipient-id":   "true",
		"clientscan/provider/text":     "false",
		"clientscan/eavesdropper/size": "true",
	}
	for cell, want := range cases {
		if !strings.Contains(page, `data-cell="`+cell+`" data-recovered="`+want+`"`) {
			t.Errorf("cell %s: want recovered=%s", cell, want)
		}
	}
}

func TestDemoPageRefusesBadInput(t *testing.T) {
	srv := httptest.NewServer(Handler(experiments.Demonstrate, nil))
	defer srv.Close()
	for _, text := range []string{"", "too short", strings.Repeat("x", experiments.MaxDemoText+1)} {
		code, page := post(t, srv, text)
		if code != http.StatusBadRequest || !strings.Contains(page, `id="error"`) {
			t.Errorf("text of %d bytes: status %d", len(text), code)
		}
	}
	resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("text="+strings.Repeat("y", 20<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("oversized form: status %d", resp.StatusCode)
	}
}
