package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8787": true, "[::1]:80": true, "localhost:1": true,
		"0.0.0.0:8787": false, ":8787": false, "10.0.0.1:80": false, "example.com:80": false, "nohost": false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok %v", addr, err, ok)
		}
	}
}

func TestRunSimRefusesNonLoopback(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runSim(context.Background(), []string{"--addr", "0.0.0.0:0"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errb.String(), "--force") {
		t.Errorf("stderr %q does not name --force", errb.String())
	}
}

func TestRunSimServesAndWritesSecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	secret := filepath.Join(t.TempDir(), "connector.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testkit.SyncBuffer
	done, stopped := make(chan int, 1), make(chan struct{})
	go func() {
		done <- runSim(ctx, []string{"--addr", addr, "--client-id", "cid", "--client-secret", "top-secret", "--write-secret", secret}, &out, &errb)
		close(stopped)
	}()
	// Wait for the listener (the secret file is written before it says so).
	if _, ok := out.Await(stopped, "listening"); !ok {
		cancel()
		t.Fatalf("simulator did not come up: %s %s", out.String(), errb.String())
	}
	st, err := os.Stat(secret)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", st.Mode(), err)
	}
	b, _ := os.ReadFile(secret)
	var c map[string]string
	if err := json.Unmarshal(b, &c); err != nil || c["url"] != "http://"+addr || c["clientSecret"] != "top-secret" || c["clientId"] != "cid" {
		t.Errorf("secret %s: %v", b, err)
	}
	if strings.Contains(out.String()+errb.String(), "top-secret") {
		t.Error("the client secret was printed")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}
