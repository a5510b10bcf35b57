package main

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

func serve(dir string) error {
	keys := &tokenStore{path: filepath.Join(dir, "token")}
	keys.refresh()
	base := baseEnv(os.Environ())
	sock := filepath.Join(dir, "agent.sock")
	_ = os.Remove(sock)
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", sock)
	syscall.Umask(old)
	if err != nil {
		return err
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return err
		}
		go handle(conn, keys, base)
	}
}

// tokenStore holds the token requests must carry. The worker writes it into DIR/token (root's,
// in a 0700 folder); the agent takes it (reads and removes the file) at start and again
// whenever the file reappears: a warm-pool container starts with no token (it answers nobody)
// and gets its sandbox's token when a create claims it (docs/warm-pool.md).
type tokenStore struct {
	path  string
	mu    sync.Mutex
	token string
}

// refresh takes a token file that is there (one failed open when there is none) and returns the current token.
func (t *tokenStore) refresh() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	raw, err := os.ReadFile(t.path)
	if err == nil {
		_ = os.Remove(t.path)
		if next := strings.TrimSpace(string(raw)); next != "" {
			t.token = next
		}
	}
	return t.token
}

// baseEnv is the environment every process starts from: the container's (PID 1's, as
// `docker exec` uses), without what the keep-alive shell added.
func baseEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PWD", "OLDPWD", "SHLVL", "_":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func handle(conn net.Conn, keys *tokenStore, base []string) {
	defer conn.Close()
	out := &frameWriter{w: conn}
	kind, body, err := readFrame(conn)
	if err != nil || kind != frameRequest {
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil || (len(req.Cmd) == 0 && req.Op == "") {
		out.write(frameRefused, []byte("bad request"))
		return
	}
	token := keys.refresh()
	if token == "" || subtle.ConstantTimeCompare([]byte(req.Token), []byte(token)) != 1 {
		out.write(frameRefused, []byte("bad token"))
		return
	}
	if req.Op != "" {
		handleFile(conn, req, out)
		return
	}
	cmd, refuse, failure := prepare(req, base)
	if refuse != "" {
		out.write(frameRefused, []byte(refuse))
		return
	}
	if failure != "" {
		// As `docker exec` does: the reason on stdout (with its CRLF), exit code 126.
		if !req.Detach {
			out.write(frameStdout, []byte(failure+"\r\n"))
			out.write(frameExit, exitPayload(126))
		} else {
			out.write(frameRefused, []byte(failure))
		}
		return
	}
	if req.Detach {
		runDetached(cmd, out)
		return
	}
	runAttached(conn, cmd, req.Stdin, out)
}

// handleFile serves a file request (files.go); an agent that cannot (not root, bad request)
// refuses it and the client runs a process instead.
func handleFile(conn net.Conn, req request, out *frameWriter) {
	switch {
	case !fileRequestAllowed():
		out.write(frameRefused, []byte("file requests need the agent to run as root"))
	case req.Op == "write" && req.Path != "" && req.Tmp != "" && req.Size >= 0:
		writeFile(conn, req, out)
	case req.Op == "read" && req.Path != "" && req.Offset >= 0 && req.Length >= 0:
		readFile(conn, req, out)
	default:
		out.write(frameRefused, []byte("bad file request"))
	}
}

func exitPayload(code int) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
	return b[:]
}

func runDetached(cmd *execCmd, out *frameWriter) {
	if err := cmd.Start(); err != nil {
		out.write(frameRefused, []byte(startFailure(cmd, err)))
		return
	}
	out.write(frameStarted, []byte(strconv.Itoa(cmd.Process.Pid)))
	go func() { _ = cmd.Wait() }()
}

func runAttached(conn net.Conn, cmd *execCmd, withStdin bool, out *frameWriter) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return
	}
	var stdin io.WriteCloser
	if withStdin {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return
		}
	}
	if err := cmd.Start(); err != nil {
		out.write(frameStdout, []byte(startFailure(cmd, err)+"\r\n"))
		out.write(frameExit, exitPayload(126))
		return
	}
	out.write(frameStarted, []byte(strconv.Itoa(cmd.Process.Pid)))
	if stdin != nil {
		go pumpStdin(conn, stdin)
	}
	done := make(chan struct{}, 2)
	go pump(stdout, frameStdout, out, done)
	go pump(stderr, frameStderr, out, done)
	<-done
	<-done
	code := 0
	if err := cmd.Wait(); err != nil {
		code = exitCode(cmd, err)
	}
	out.write(frameExit, exitPayload(code))
}

// pumpStdin copies stdin frames to the process; an empty frame (or the client going away)
// closes its stdin.
func pumpStdin(conn net.Conn, stdin io.WriteCloser) {
	defer stdin.Close()
	for {
		kind, body, err := readFrame(conn)
		if err != nil || kind != frameStdin || len(body) == 0 {
			return
		}
		if _, err := stdin.Write(body); err != nil {
			// The process closed its stdin: keep reading so the client never blocks.
			for {
				if _, _, err := readFrame(conn); err != nil {
					return
				}
			}
		}
	}
}

func pump(r io.Reader, kind byte, out *frameWriter, done chan<- struct{}) {
	buf := make([]byte, 256*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			out.write(kind, buf[:n])
		}
		if err != nil {
			done <- struct{}{}
			return
		}
	}
}

func exitCode(cmd *execCmd, err error) int {
	if cmd.ProcessState == nil {
		return 126
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := cmd.ProcessState.ExitCode(); code >= 0 {
		return code
	}
	_ = err
	return 126
}
