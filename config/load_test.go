package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The configuration file is read like a secret file: only a regular file of
// at most maxConfigFileSize bytes, and never with a read that could block.
func TestLoadRefusesSpecialAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	zero := filepath.Join(dir, "zero.yml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, []byte(prod("")+"#"+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.yml")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo: "reading config file: read " + fifo + ": not a regular file (a FIFO)",
		zero: "reading config file: read " + zero + ": not a regular file (a device)",
		big:  "reading config file: read " + big + ": larger than 1 MiB (1048576 bytes)",
		sub:  "reading config file: read " + sub + ": not a regular file (a directory)",
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(path, defaultEnv.lookup); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want {
				t.Errorf("Load(%s) = %v, want %s", filepath.Base(path), err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Load(%s) blocked", filepath.Base(path))
		}
	}

	// A reload of a FIFO does not hold the reload lock: the next one works.
	sc := NewSafeConfig(nil)
	path := filepath.Join(dir, "config.yml")
	if err := os.Symlink(fifo, path); err != nil {
		t.Fatal(err)
	}
	if err := sc.ReloadConfig(path, defaultEnv.lookup); err == nil || !strings.HasSuffix(err.Error(), "not a regular file (a FIFO)") {
		t.Fatalf("reload of a FIFO: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(prod("")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sc.ReloadConfig(path, defaultEnv.lookup); err != nil || sc.Get() == nil {
		t.Fatalf("reload after the FIFO: %v", err)
	}
}

// Reloads asked for while one runs join one following reload instead of
// queuing one each.
func TestReloadsCoalesce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(prod("")), 0o600); err != nil {
		t.Fatal(err)
	}
	sc := NewSafeConfig(nil)
	var runs atomic.Int32
	release := make(chan struct{})
	sc.OnReload(func(*Config) {
		if runs.Add(1) == 1 {
			<-release // hold the first reload while the others arrive
		}
	})
	first := make(chan error, 1)
	go func() { first <- sc.ReloadConfig(path, defaultEnv.lookup) }()
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	const waiting = 10
	for range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sc.ReloadConfig(path, defaultEnv.lookup); err != nil {
				t.Error(err)
			}
		}()
	}
	// Let them all join the pending reload before the first one finishes.
	for joined := 0; joined < waiting; time.Sleep(time.Millisecond) {
		sc.nextMu.Lock()
		if sc.next != nil {
			joined = sc.next.callers
		}
		sc.nextMu.Unlock()
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := runs.Load(); got != 2 {
		t.Errorf("%d reloads ran for 1 + %d requests, want 2", got, waiting)
	}
}
