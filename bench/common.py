"""What the benchmark scripts share: a release server on a port of their own, and JSON calls to it."""
import json, os, subprocess, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "dvc-api")
PASSWORD = "benchmark-password"


class Server:
    """A release server on `address` over `database_url`, started and stopped with `with`."""

    def __init__(self, address, database_url):
        self.address = address
        self.env = dict(os.environ, DVC_LISTEN=address, DVC_DATABASE_URL=database_url,
                        DVC_ADMIN_PASSWORD=PASSWORD, DVC_LOG="warn")
        self.process = None
        self.token = None

    def __enter__(self):
        self.process = subprocess.Popen([BINARY], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://{self.address}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        credentials = json.dumps({"username": "admin", "password": PASSWORD}).encode()
        self.token = self.call("POST", "/api/v1/auth/token", credentials)["access_token"]
        return self

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait()

    def call(self, method, path, body=None, content_type="application/json"):
        request = urllib.request.Request(f"http://{self.address}{path}", data=body, method=method)
        request.add_header("content-type", content_type)
        if self.token:
            request.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read() or b"null")

    def post(self, path, value):
        return self.call("POST", path, json.dumps(value).encode())
