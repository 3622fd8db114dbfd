package console

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// The console's "Test" of settings whose token endpoint redirects (307) to another port: the
// client secret is not re-posted there, and the page says why the test failed.
func TestConsoleTestRefusesTokenRedirect(t *testing.T) {
	s := startSim(t, sim.Config{})
	front, hits := testkit.RedirectingFront(t, s, "/oauth/token", http.StatusTemporaryRedirect)
	dir := t.TempDir()
	tc := startConsole(t, Config{Connectors: Dir(dir), Records: filepath.Join(dir, "none.ndjson")})
	form := fieldsOf(t, s)
	form.Set("csrf", tc.token(t))
	form.Set("url", front.URL)
	form.Set("authenticationServer", front.URL)
	_, page := tc.post(t, "/test", form, true)
	if st := checkStatuses(page); st["token"] != "fail" || !strings.Contains(page, "follows no redirect") {
		t.Errorf("token check %q; the page does not say the redirect is not followed:\n%s", st["token"], page)
	}
	if hits.Load() != 0 {
		t.Errorf("the token request followed the redirect to another port")
	}
	if strings.Contains(page, simSecret) {
		t.Errorf("the page holds the secret")
	}
}

// Saving settings for another API host or name into a stored connector is refused: its name and
// host are the identity of its checkpoints.
func TestConsoleSaveCannotRehostAConnector(t *testing.T) {
	s := startSim(t, sim.Config{})
	other := startSim(t, sim.Config{})
	dir := t.TempDir()
	tc := startConsole(t, Config{Connectors: Dir(dir), Records: filepath.Join(dir, "none.ndjson")})
	tok := tc.token(t)
	good := fieldsOf(t, s)
	good.Set("csrf", tok)
	if _, body := tc.post(t, "/save", good, true); !strings.Contains(body, `id="saved"`) || strings.Contains(body, "not saved") {
		t.Fatalf("first save:\n%s", body)
	}
	before, err := os.ReadFile(filepath.Join(dir, "sim.json"))
	if err != nil {
		t.Fatal(err)
	}
	moved := fieldsOf(t, other)
	moved.Set("csrf", tok)
	moved.Set("connector", "sim")
	_, body := tc.post(t, "/save", moved, true)
	if !strings.Contains(body, "not saved: connector &#34;sim&#34; collects from "+s.URL()) &&
		!strings.Contains(body, `not saved: connector "sim" collects from `+s.URL()) {
		t.Errorf("re-host not refused with both hosts named:\n%s", body)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "sim.json")); string(after) != string(before) {
		t.Errorf("the refused save changed the stored connector")
	}
}
