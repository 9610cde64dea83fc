package asa_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	asa "github.com/asa-project/asa/sdk/go"
)

// server is the real simulator and server (`asa dev`) that TestMain starts for the whole run.
type server struct {
	bin  string
	base string
	dir  string
	env  []string
	dev  *exec.Cmd
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
	s := &server{bin: bin, dir: dir}
	// The server refuses ASA_* variables it does not know (ASA_BIN among them).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ASA_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env,
		"ASA_UPSTREAM_TIMEOUT=3s",
		"ASA_FAILURES_DIR="+filepath.Join(dir, "failures"),
		"ASA_SANDBOX_BOOTSTRAP=false",
		// Batch webhooks may go to a test's receiver on loopback, over http.
		"ASA_BATCHES_ALLOW_PRIVATE_WEBHOOKS=true",
	)
	logs, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return s, err
	}
	s.dev = exec.Command(bin, "dev", "--json")
	s.dev.Env, s.dev.Stderr = s.env, logs
	out, err := s.dev.StdoutPipe()
	if err != nil {
		return s, err
	}
	if err := s.dev.Start(); err != nil {
		s.dev = nil
		return s, err
	}
	// One line once the simulator and the server answer; EOF if it exits first.
	line, err := bufio.NewReader(out).ReadBytes('\n')
	var dev struct {
		API         string `json:"api"`
		DatabaseURL string `json:"database_url"`
	}
	if err == nil {
		err = json.Unmarshal(line, &dev)
	}
	if err != nil {
		tail, _ := os.ReadFile(logs.Name())
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return s, fmt.Errorf("asa dev printed no line (%v); its log ends:\n%s", err, tail)
	}
	s.base = dev.API
	// `asa admin` works on the database `asa dev` made.
	s.env = append(s.env, "ASA_DATABASE_URL="+dev.DatabaseURL)
	return s, nil
}

func (s *server) stop() {
	if s.dev != nil {
		_ = s.dev.Process.Signal(syscall.SIGTERM)
		_ = s.dev.Wait()
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
