/** The machine a run measured: the README's Performance section quotes it beside the table. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Machine } from './prerequisites.js';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  node: string;
  redis: string;
  sipp: string;
  /** 1, 5 and 15 minute load averages when the run started (and ended): other work on the machine. */
  loadAverage: number[];
  loadAverageAfter?: number[];
}

export function machineFacts(tools: Machine): MachineFacts {
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpuModel(),
    node: process.version,
    redis: tools.redis,
    sipp: tools.sipp,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}
