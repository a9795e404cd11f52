// Preloaded (`node -r`) into a CLI child by harness.ts: on exit, writes the process's peak resident
// set size (bytes) to the file named by ANOMALY_LAB_RSS_FILE. resourceUsage().maxRSS is the kernel's
// high-water mark, so short allocation spikes between the parent's polls are counted too.
'use strict';
const file = process.env.ANOMALY_LAB_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      require('fs').writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
    } catch {
      /* the parent then falls back to its own polled peak */
    }
  });
}
