package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

type execCmd = exec.Cmd

// prepare builds the process for req. refuse: the agent cannot do this (the client falls
// back to docker exec); failure: the process cannot start (reported like docker exec does).
func prepare(req request, base []string) (cmd *execCmd, refuse string, failure string) {
	env := mergeEnv(base, req.Env)
	attr := &syscall.SysProcAttr{Setsid: true}
	if req.User != "" {
		cred, home, err := lookupUser(req.User)
		if err != nil {
			return nil, "", err.Error()
		}
		if os.Getuid() != 0 && (int(cred.Uid) != os.Getuid() || int(cred.Gid) != os.Getgid()) {
			return nil, "agent runs as uid " + strconv.Itoa(os.Getuid()) + " and cannot switch user", ""
		}
		if os.Getuid() == 0 {
			attr.Credential = cred
		}
		if _, set := req.Env["HOME"]; !set {
			env = setEnv(env, "HOME", home)
		}
	}
	path, err := lookPath(req.Cmd[0], env)
	if err != nil {
		return nil, "", err.Error()
	}
	if req.Cwd != "" {
		if st, err := os.Stat(req.Cwd); err != nil || !st.IsDir() {
			return nil, "", fmt.Sprintf("OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (%q) set in config.json failed: no such file or directory: unknown", req.Cwd)
		}
	}
	cmd = &exec.Cmd{Path: path, Args: req.Cmd, Env: env, Dir: req.Cwd, SysProcAttr: attr}
	return cmd, "", ""
}

func startFailure(cmd *execCmd, err error) string {
	return fmt.Sprintf("OCI runtime exec failed: exec failed: unable to start container process: exec: %q: %v: unknown", cmd.Args[0], errors.Unwrap(err))
}

func mergeEnv(base []string, extra map[string]string) []string {
	env := append([]string(nil), base...)
	for k, v := range extra {
		env = setEnv(env, k, v)
	}
	return env
}

func setEnv(env []string, key, value string) []string {
	prefix := key + "="
	for i, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			env[i] = prefix + value
			return env
		}
	}
	return append(env, prefix+value)
}

func getEnv(env []string, key string) string {
	prefix := key + "="
	for _, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			return kv[len(prefix):]
		}
	}
	return ""
}

// lookPath resolves name with the process's own PATH (not the agent's), as runc does.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(getEnv(env, "PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown", name)
}

type passwdEntry struct {
	name string
	uid  uint32
	gid  uint32
	home string
}

// lookupUser resolves `name`, `uid`, `name:group` or `uid:gid` with the sandbox's own
// /etc/passwd and /etc/group, like runc: an unknown numeric uid gets gid 0 and home /.
func lookupUser(spec string) (*syscall.Credential, string, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	users := readColonFile("/etc/passwd")
	var entry *passwdEntry
	for _, f := range users {
		if len(f) < 6 {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		if f[0] == userPart || f[2] == userPart {
			entry = &passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]}
			break
		}
	}
	if entry == nil {
		n, err := strconv.ParseUint(userPart, 10, 32)
		if err != nil {
			return nil, "", fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
		entry = &passwdEntry{uid: uint32(n), gid: 0, home: "/"}
	}
	groups := readColonFile("/etc/group")
	if hasGroup {
		found := false
		for _, f := range groups {
			if len(f) >= 3 && (f[0] == groupPart || f[2] == groupPart) {
				if gid, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					entry.gid = uint32(gid)
					found = true
					break
				}
			}
		}
		if !found {
			n, err := strconv.ParseUint(groupPart, 10, 32)
			if err != nil {
				return nil, "", fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
			entry.gid = uint32(n)
		}
	}
	// Like runc: the primary group is also a supplementary one, then the user's memberships.
	extra := []uint32{entry.gid}
	if entry.name != "" && !hasGroup {
		for _, f := range groups {
			if len(f) < 4 {
				continue
			}
			for _, member := range strings.Split(f[3], ",") {
				if member == entry.name {
					if gid, err := strconv.ParseUint(f[2], 10, 32); err == nil && uint32(gid) != entry.gid {
						extra = append(extra, uint32(gid))
					}
				}
			}
		}
	}
	return &syscall.Credential{Uid: entry.uid, Gid: entry.gid, Groups: extra}, entry.home, nil
}

func readColonFile(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
