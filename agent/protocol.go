package main

import (
	"encoding/binary"
	"io"
	"sync"
)

// Frames in both directions: a 8-byte header (kind, 0, 0, 0, big-endian uint32 length) and
// the payload.
//
// Client to agent: one frameRequest (JSON, see request) first, then frameStdin frames; an
// empty frameStdin closes stdin.
//
// Agent to client: frameStdout / frameStderr data; then frameExit (4-byte big-endian exit
// code) once the process ended and its output was sent. frameStarted (decimal PID) answers
// a detached request. A file request (files.go) is answered with frameStarted, then raw
// bytes in one direction, then (for a write) frameExit. frameRefused (a message) means the agent will not run this request
// (bad token, a user it cannot switch to): the client runs it another way.
const (
	frameStdin    = 0
	frameStdout   = 1
	frameStderr   = 2
	frameExit     = 3
	frameStarted  = 4
	frameRefused  = 5
	frameRequest  = 6
	maxHeaderSize = 1 << 20
)

type request struct {
	Token  string            `json:"token"`
	Cmd    []string          `json:"cmd"`
	Env    map[string]string `json:"env"`
	User   string            `json:"user"`
	Cwd    string            `json:"cwd"`
	Stdin  bool              `json:"stdin"`
	Detach bool              `json:"detach"`
	// File transfers (files.go): Op "write" (Path, Tmp, Size) or "read" (Path, Offset,
	// Length); empty for a process.
	Op     string `json:"op"`
	Path   string `json:"path"`
	Tmp    string `json:"tmp"`
	Size   int64  `json:"size"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var head [8]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(head[4:])
	if size > maxHeaderSize {
		return 0, nil, io.ErrUnexpectedEOF
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return head[0], body, nil
}

// frameWriter serialises frames from several goroutines; after the first write error it
// drops everything (the client went away) so the process's pipes keep draining.
type frameWriter struct {
	mu     sync.Mutex
	w      io.Writer
	broken bool
}

func (f *frameWriter) write(kind byte, payload []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return
	}
	var head [8]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[4:], uint32(len(payload)))
	if _, err := f.w.Write(head[:]); err != nil {
		f.broken = true
		return
	}
	if len(payload) > 0 {
		if _, err := f.w.Write(payload); err != nil {
			f.broken = true
		}
	}
}
