// berth-agent: a small resident process inside a berth sandbox that starts processes for
// berth's data plane over a unix socket, so a command does not pay for a `docker exec`.
//
// Usage: berth-agent serve DIR
//
// DIR is a per-sandbox folder bind-mounted from the host. The agent takes (reads and removes)
// DIR/token at start and whenever the worker writes it again (a warm-pool container gets its
// token at the claim; until then it answers nobody), and listens on DIR/agent.sock (mode 0600). Each connection carries one
// request; see protocol.go. The agent exits only when its container stops.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: berth-agent serve DIR")
		os.Exit(2)
	}
	// A background job of a non-interactive shell starts with SIGINT and SIGQUIT ignored, and
	// ignored signals are inherited by children. Handling them here makes the runtime reset
	// them to their defaults in every child, as `docker exec` gives them. SIGTERM/SIGHUP are
	// caught so a stray signal to the agent does not end it.
	sink := make(chan os.Signal, 8)
	signal.Notify(sink, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGPIPE)
	go func() {
		for range sink {
		}
	}()
	if err := serve(os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "berth-agent:", err)
		os.Exit(1)
	}
}
