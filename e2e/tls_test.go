package e2e

// TLS and basic auth through --web.config.file, end to end: the binary is
// built, started with --demo behind a self-signed certificate and a bcrypt
// basic-auth user, and testkit.Metrics over HTTPS.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"golang.org/x/crypto/bcrypt"
)

const (
	tlsUser     = "scraper"
	tlsPassword = "tls-Pass-9d41c2e7-basic-auth"
)

// tlsLockedBuffer collects a process's output.
type tlsLockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *tlsLockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *tlsLockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tlsCert writes a self-signed ECDSA certificate for 127.0.0.1 and its key
// into dir and returns the certificate's pool.
func tlsCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vbs_exporter test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func tlsFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestTLSBasicAuthEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dir := t.TempDir()
	certFile, keyFile, pool := tlsCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(tlsPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webCfg, fmt.Appendf(nil, `tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  %s: %s
`, certFile, keyFile, tlsUser, hash), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := exporterBin

	addr := tlsFreeAddr(t)
	var stdout, stderr tlsLockedBuffer
	cmd := exec.Command(bin, "--demo", "--web.listen-address="+addr, "--web.config.file="+webCfg, "--log.level=debug")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the exporter exited with %v after SIGTERM", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("the exporter did not stop on SIGTERM")
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	get := func(url, user, pass string) (int, string, http.Header, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header, nil
	}
	base := "https://" + addr

	// Wait until it serves.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, _, err := get(base+"/-/healthy", tlsUser, tlsPassword)
		if err == nil && code == http.StatusOK {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the exporter exited: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 20s: HTTP %d, %v", code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, c := range []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", tlsUser, "wrong-password", http.StatusUnauthorized},
		{"password of another case", tlsUser, strings.ToUpper(tlsPassword), http.StatusUnauthorized},
		{"unknown user", "admin", tlsPassword, http.StatusUnauthorized},
		{"empty password", tlsUser, "", http.StatusUnauthorized},
		{"credentials", tlsUser, tlsPassword, http.StatusOK},
	} {
		for _, path := range []string{"/metrics", "/probe?target=demo", "/config", "/-/healthy", "/"} {
			code, body, hdr, err := get(base+path, c.user, c.pass)
			if err != nil {
				t.Errorf("%s, %s: %v", c.name, path, err)
				continue
			}
			if code != c.want {
				t.Errorf("%s, %s: HTTP %d, want %d", c.name, path, code, c.want)
			}
			if code == http.StatusUnauthorized {
				if !strings.Contains(hdr.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("%s, %s: 401 without a Basic challenge", c.name, path)
				}
				if strings.Contains(body, "vbs_") || strings.Contains(body, "demo") {
					t.Errorf("%s, %s: a 401 leaks content: %.200s", c.name, path, body)
				}
			}
			if code == http.StatusOK && path == "/metrics" {
				if v, ok := testkit.ParseMetrics(t, body).Value("vbs_up", "target", "demo"); !ok || v != 1 {
					t.Errorf("vbs_up{target=\"demo\"} = %v, %v; want 1", v, ok)
				}
			}
		}
	}

	// Plain HTTP to the TLS port gets no metrics.
	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := plain.Get("http://" + addr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "vbs_up") {
			t.Errorf("plain HTTP: HTTP %d: %.200s", resp.StatusCode, b)
		}
		t.Logf("plain HTTP to the TLS port: HTTP %d %q", resp.StatusCode, strings.TrimSpace(string(b)))
	} else {
		t.Logf("plain HTTP to the TLS port: %v", err)
	}
	// A client that does not trust the certificate fails the handshake.
	untrusted := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := untrusted.Get(base + "/-/healthy"); err == nil {
		resp.Body.Close()
		t.Errorf("a client without the CA connected: HTTP %d", resp.StatusCode)
	}
	// TLS below 1.2 is refused (the toolkit's default minimum).
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(base + "/-/healthy"); err == nil {
		resp.Body.Close()
		t.Errorf("a TLS 1.1 client connected: HTTP %d", resp.StatusCode)
	}
	client.CloseIdleConnections()

	// The password never shows in the exporter's output.
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(out, tlsPassword) {
			t.Errorf("the basic auth password appears in the exporter's %s", name)
		}
	}
	if !strings.Contains(stderr.String(), "TLS is enabled") {
		t.Logf("stderr has no 'TLS is enabled' line:\n%s", stderr.String())
	}
}
