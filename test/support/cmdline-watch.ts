import { readdirSync, readFileSync } from "node:fs";

// Watches every process's command line (/proc/<pid>/cmdline) while a test runs a script, so a test
// can prove a key or token never appeared in any argv, and that the watch did see the processes it
// should have (a watch that saw nothing proves nothing).

export interface CmdlineWatch {
  /** Every distinct command line seen, arguments joined with spaces. */
  readonly seen: Set<string>;
  stop(): void;
}

export function watchCmdlines(intervalMs = 2): CmdlineWatch {
  const seen = new Set<string>();
  const sample = () => {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const raw = readFileSync(`/proc/${pid}/cmdline`);
        if (raw.length > 0) seen.add(raw.toString("utf8").replace(/\0+$/, "").split("\0").join(" "));
      } catch {
        // the process ended between readdir and read
      }
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    seen,
    stop: () => {
      clearInterval(timer);
      sample();
    },
  };
}
