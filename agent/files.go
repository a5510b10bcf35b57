package main

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// File transfers without a process: the agent itself writes an upload into a temporary file
// (the client renames it into place afterwards) or streams a byte range of a file. After the
// request and one frameStarted, the content goes over the connection as raw bytes (no
// frames): the kernel moves it (splice from the socket into the file; sendfile from the file
// into the socket), so the sandbox's CPU quota pays for no user-space copy.
//
// Failures answer like a process would: frameStderr (a message), then frameExit with the same
// exit codes as berth's file scripts (src/dataplane/files.ts).
const (
	exitMissing = 44
	exitIsDir   = 45
	exitNotDir  = 46
	exitNoSpace = 51
)

// File requests need root (the same user berth's file scripts run as): an agent running as
// another user refuses them and the client uses a process instead.
func fileRequestAllowed() bool { return os.Getuid() == 0 }

func fail(out *frameWriter, code int, msg string) {
	out.write(frameStderr, []byte(msg))
	out.write(frameExit, exitPayload(code))
}

func errorCode(err error) int {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return exitNoSpace
	case errors.Is(err, syscall.ENOENT):
		return exitMissing
	case errors.Is(err, syscall.ENOTDIR):
		return exitNotDir
	case errors.Is(err, syscall.EISDIR):
		return exitIsDir
	}
	return 1
}

// writeFile receives exactly req.Size raw bytes into req.Tmp (created exclusively, parents
// of req.Path created like `mkdir -p`). Anything short of req.Size (the client went away)
// removes the temporary file.
func writeFile(conn net.Conn, req request, out *frameWriter) {
	if st, err := os.Stat(req.Path); err == nil && st.IsDir() {
		fail(out, exitIsDir, req.Path+" is a directory")
		return
	}
	if err := os.MkdirAll(filepath.Dir(req.Path), 0o777); err != nil {
		code := errorCode(err)
		if code != exitNoSpace {
			code = exitNotDir
		}
		fail(out, code, err.Error())
		return
	}
	// O_EXCL|O_NOFOLLOW: a name placed in advance (a symlink) is never written through.
	f, err := os.OpenFile(req.Tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o666)
	if err != nil {
		fail(out, errorCode(err), err.Error())
		return
	}
	out.write(frameStarted, nil)
	n, err := io.CopyN(f, conn, req.Size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n == req.Size {
		out.write(frameExit, exitPayload(0))
		return
	}
	_ = os.Remove(req.Tmp)
	if errors.Is(err, io.EOF) || (err == nil && n < req.Size) {
		return // the client broke off: nobody to answer
	}
	fail(out, errorCode(err), err.Error())
	// Drain the rest of the body so the client never blocks on a full socket; it closes the
	// connection once it has read the answer.
	_, _ = io.Copy(io.Discard, conn)
}

// readFile streams req.Length bytes (fewer when the file is shorter) of the regular file
// req.Path from req.Offset, symlinks followed.
func readFile(conn net.Conn, req request, out *frameWriter) {
	f, err := os.Open(req.Path)
	if err != nil {
		fail(out, errorCode(err), err.Error())
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fail(out, errorCode(err), err.Error())
		return
	}
	if st.IsDir() {
		fail(out, exitIsDir, req.Path+" is a directory")
		return
	}
	if !st.Mode().IsRegular() {
		out.write(frameRefused, []byte("not a regular file"))
		return
	}
	out.write(frameStarted, nil)
	if out.broken {
		return
	}
	_ = sendFile(conn, f, req.Offset, req.Length)
}

// sendFile copies length bytes of f from offset into conn with sendfile(2), or with a large
// buffer where sendfile is not available.
func sendFile(conn net.Conn, f *os.File, offset, length int64) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return copyRange(conn, f, offset, length)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return copyRange(conn, f, offset, length)
	}
	src := int(f.Fd())
	off := offset
	remain := length
	var serr error
	err = raw.Write(func(fd uintptr) bool {
		for remain > 0 {
			chunk := remain
			if chunk > 1<<30 {
				chunk = 1 << 30
			}
			n, err := syscall.Sendfile(int(fd), src, &off, int(chunk))
			if n > 0 {
				remain -= int64(n)
			}
			if err == syscall.EAGAIN {
				return false // wait until the socket is writable
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				serr = err
				return true
			}
			if n == 0 {
				return true // end of file
			}
		}
		return true
	})
	if serr != nil && (errors.Is(serr, syscall.EINVAL) || errors.Is(serr, syscall.ENOSYS)) && off == offset {
		return copyRange(conn, f, offset, length)
	}
	if err != nil {
		return err
	}
	return serr
}

func copyRange(w io.Writer, f *os.File, offset, length int64) error {
	buf := make([]byte, 1<<20)
	_, err := io.CopyBuffer(w, io.NewSectionReader(f, offset, length), buf)
	return err
}
