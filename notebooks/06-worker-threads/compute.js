// compute.js: a worker script. Receives {n}, answers with the digest of n rounds of SHA-256.
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');

function compute({ n }) {
  let digest = 'seed';
  for (let i = 0; i < n; i++) digest = crypto.createHash('sha256').update(digest).digest('hex');
  return digest;
}

if (parentPort) {
  parentPort.on('message', (data) => parentPort.postMessage(compute(data)));
} else {
  console.log('compute.js is a worker script: start it with new Worker(path). Self-test:', compute({ n: 3 }).slice(0, 16));
}
