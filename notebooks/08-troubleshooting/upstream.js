// inventory: a small upstream service with a few ways to misbehave.
const http = require('node:http');
const attempts = new Map(); // key -> how many times it was asked

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://inventory');
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const key = url.searchParams.get('key') || 'default';
  const item = /^\/items\/(\d+)$/.exec(url.pathname);
  if (item) return send(200, { id: Number(item[1]), inStock: 7 });
  if (url.pathname === '/stall') return; // accept the request, never answer
  if (url.pathname === '/flaky' || url.pathname === '/broken') {
    const n = (attempts.get(key) || 0) + 1;
    attempts.set(key, n);
    if (url.pathname === '/flaky' && n >= 3) return send(200, { inStock: 7, attempt: n }); // fails twice, then works
    return send(503, { error: { code: 'SERVICE_UNAVAILABLE', message: `attempt ${n} failed` } });
  }
  if (url.pathname === '/attempts') return send(200, { key, attempts: attempts.get(key) || 0 });
  send(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
});
server.listen(process.env.PORT, process.env.HOST);
