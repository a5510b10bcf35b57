/** The machine a bench ran on: what results.json records beside the numbers. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type Docker from 'dockerode';

export interface MachineInfo {
  hostname: string;
  cpuModel: string;
  cores: number;
  memoryMB: number;
  kernel: string;
  os: string;
  dockerVersion: string;
  dockerStorageDriver: string;
  dockerCgroup: string;
  nodeVersion: string;
  temporalCli: string;
  loadAverageAtStart: number[];
}

function osRelease(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(docker: Docker, temporalCliPath: string): Promise<MachineInfo> {
  const [version, info] = await Promise.all([docker.version(), docker.info() as Promise<Record<string, unknown>>]);
  let temporalCli = 'unknown';
  try {
    temporalCli = execFileSync(temporalCliPath, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    // keep unknown
  }
  return {
    hostname: os.hostname(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryMB: Math.round(os.totalmem() / 1024 / 1024),
    kernel: `${os.type()} ${os.release()}`,
    os: osRelease(),
    dockerVersion: version.Version,
    dockerStorageDriver: String(info.Driver ?? 'unknown'),
    dockerCgroup: `${String(info.CgroupDriver ?? '?')} v${String(info.CgroupVersion ?? '?')}`,
    nodeVersion: process.version,
    temporalCli,
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Resident set size (VmRSS) and its peak (VmHWM) of a process, in MB; null when gone. */
export function processMemoryMB(pid: number | undefined): { rssMB: number; peakMB: number } | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMB: Math.round(kb('VmRSS') / 102.4) / 10, peakMB: Math.round(kb('VmHWM') / 102.4) / 10 };
  } catch {
    return null;
  }
}

/** PIDs of processes whose command name is one of `names` (e.g. dockerd), from /proc. */
export function pidsByName(names: string[]): number[] {
  const pids: number[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (names.includes(comm)) pids.push(Number(entry));
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return pids;
}
