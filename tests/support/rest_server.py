#!/usr/bin/env python3
"""A stand-in for Patroni's REST API in pgchaos's tests (the real one needs a DCS): the same access checks as
Patroni 3.0 (client certificate, then basic authentication, on the unsafe methods only) and the same answers to
what pgchaos asks: GET /patroni, GET /config, PATCH /config (400 for an empty patch, after the access check).
Serves HTTPS on 127.0.0.1; writes its port to --port-file once it listens."""
import argparse, base64, http.server, json, ssl

parser = argparse.ArgumentParser()
parser.add_argument('--port-file', required=True)
parser.add_argument('--cert', required=True)
parser.add_argument('--key', required=True)
parser.add_argument('--client-ca')  # given: a client certificate is required
parser.add_argument('--user')
parser.add_argument('--password')
args = parser.parse_args()
config = {'ttl': 30, 'synchronous_mode': False}


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def access_denied(self):
        if args.user:
            expected = base64.b64encode(f'{args.user}:{args.password}'.encode()).decode()
            if self.headers.get('Authorization') != 'Basic ' + expected:
                self.answer(401, 'not authenticated', [('WWW-Authenticate', 'Basic realm="Patroni"')])
                return True
        return False

    def do_GET(self):
        if self.path == '/patroni':
            self.answer(200, json.dumps({'state': 'running', 'role': 'master', 'timeline': 1}))
        elif self.path == '/config':
            self.answer(200, json.dumps(config))
        elif self.path == '/moved':
            self.answer(301, '', [('Location', 'https://127.0.0.1:1/elsewhere')])
        else:
            self.answer(404, 'not found')

    def do_PATCH(self):
        if self.access_denied():
            return
        length = int(self.headers.get('Content-Length', 0))
        patch = json.loads(self.rfile.read(length) or b'{}')
        if not patch:
            self.answer(400, 'Bad Request')
            return
        config.update(patch)
        self.answer(200, json.dumps(config))

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(args.cert, args.key)
if args.client_ca:
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(args.client_ca)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(args.port_file + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
import os
os.rename(args.port_file + '.tmp', args.port_file)
server.serve_forever()
