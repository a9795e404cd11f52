#!/usr/bin/env node
'use strict';
const { main, errorLine } = require('../dist/cli/main.js');
const argv = process.argv.slice(2);
// The error boundary also covers what escapes main's await (a throw in a timer or stream
// callback, a rejected promise nobody awaited): one escaped line naming the inputs, exit 1.
const fail = (err) => {
  process.stderr.write(`anomaly-lab: ${errorLine(err, argv)}\n`);
  if (process.env.ANOMALY_LAB_DEBUG && err && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
main(argv).then((code) => {
  process.exitCode = code;
}, fail);
