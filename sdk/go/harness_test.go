package asa_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

// server is the real asa serve + asa sim pair that TestMain starts for the whole run.
type server struct {
	bin   string
	base  string
	dir   string
	env   []string
	procs []*exec.Cmd
}

var srv *server

func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the server:", err)
		if s != nil {
			s.stop()
		}
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	s.stop()
	os.Exit(code)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer() (*server, error) {
	bin := os.Getenv("ASA_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", "target", "debug", "asa")
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("asa binary (set ASA_BIN): %w", err)
	}
	dir, err := os.MkdirTemp("", "asa-go-sdk-")
	if err != nil {
		return nil, err
	}
	simPort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir, base: fmt.Sprintf("http://127.0.0.1:%d", apiPort)}
	// The server refuses ASA_* variables it does not know (ASA_BIN among them).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ASA_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env,
		fmt.Sprintf("ASA_LISTEN=127.0.0.1:%d", apiPort),
		"ASA_DATABASE_URL=sqlite://"+filepath.Join(dir, "asa.db"),
		fmt.Sprintf("ASA_UPSTREAM_URL_TEMPLATE=http://127.0.0.1:%d/amazon.{domain}", simPort),
		"ASA_UPSTREAM_TIMEOUT=3s",
		"ASA_FAILURES_DIR="+filepath.Join(dir, "failures"),
		"ASA_SANDBOX_BOOTSTRAP=false",
		// Batch webhooks may go to a test's receiver on loopback, over http.
		"ASA_BATCHES_ALLOW_PRIVATE_WEBHOOKS=true",
	)
	logs, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	for _, args := range [][]string{{"sim", "--listen", fmt.Sprintf("127.0.0.1:%d", simPort)}, {"serve"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = s.env, logs, logs
		if err := cmd.Start(); err != nil {
			return s, err
		}
		s.procs = append(s.procs, cmd)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get(s.base + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			tail, _ := os.ReadFile(logs.Name())
			if len(tail) > 2000 {
				tail = tail[len(tail)-2000:]
			}
			return s, fmt.Errorf("no /healthz 200 within 30 s; server log ends:\n%s", tail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stop() {
	for _, p := range s.procs {
		_ = p.Process.Kill()
		_, _ = p.Process.Wait()
	}
	_ = os.RemoveAll(s.dir)
}

// admin runs `asa admin ...` against the test database and returns its stdout.
func (s *server) admin(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(s.bin, append([]string{"admin"}, args...)...)
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("asa admin %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return out
}

// newKey creates an account on plan with credits and one key for it.
func newKey(t *testing.T, plan string, credits int) (account, key string) {
	t.Helper()
	var acc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(srv.admin(t, "account", "create", "--plan", plan, "--credits", fmt.Sprint(credits), "--json"), &acc); err != nil || acc.ID == "" {
		t.Fatalf("account create: %v", err)
	}
	var k struct {
		Key string `json:"key"`
		ID  string `json:"id"`
	}
	out := srv.admin(t, "key", "create", "--account", acc.ID, "--json")
	if err := json.Unmarshal(out, &k); err != nil || k.Key == "" {
		t.Fatalf("key create: %v (%s)", err, out)
	}
	return acc.ID, k.Key
}

// newSandboxKey creates a free account with a sandbox key (asa_test_): served by the
// simulator, never billed.
func newSandboxKey(t *testing.T) string {
	t.Helper()
	var acc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(srv.admin(t, "account", "create", "--plan", "free", "--credits", "0", "--json"), &acc); err != nil || acc.ID == "" {
		t.Fatalf("account create: %v", err)
	}
	var k struct {
		Key string `json:"key"`
	}
	out := srv.admin(t, "key", "create", "--account", acc.ID, "--test", "--json")
	if err := json.Unmarshal(out, &k); err != nil || !strings.HasPrefix(k.Key, "asa_test_") {
		t.Fatalf("key create --test: %v (%s)", err, out)
	}
	return k.Key
}

// sleepRecorder is an injectable sleep that records each wait and waits a scaled-down time.
type sleepRecorder struct {
	waits []time.Duration
	scale time.Duration // real wait = d / scale
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.waits = append(s.waits, d)
	t := time.NewTimer(d / s.scale)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func client(key string, opts ...asa.Option) *asa.Client {
	return asa.New(append([]asa.Option{asa.WithBaseURL(srv.base), asa.WithAPIKey(key)}, opts...)...)
}

func asaError(t *testing.T, err error) *asa.Error {
	t.Helper()
	var e *asa.Error
	if err == nil {
		t.Fatal("expected an error, got success")
	}
	if !errorsAs(err, &e) {
		t.Fatalf("error %T %v is not *asa.Error", err, err)
	}
	return e
}
