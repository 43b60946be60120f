import Foundation

// What the test targets share: a loopback HTTP server for the download tests.

/// The server printed no port: python3 failed to start it.
public struct LoopbackServerError: Error, CustomStringConvertible {
    public let output: String
    public var description: String { "http.server did not start: \(output)" }
}

/// A python3 `http.server` on 127.0.0.1 serving `dir`, stopped when released.
public final class LoopbackServer {
    let process = Process()
    public let port: Int

    /// With `ranges`, the server honours `Range` requests (206) and logs them to `dir/ranges.log`.
    public init(serving dir: URL, ranges: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        if ranges {
            process.arguments = ["python3", "-u", "-c", LoopbackServer.rangeServer, dir.path]
        } else {
            process.arguments = [
                "python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                "--directory", dir.path
            ]
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        var text = ""
        let handle = out.fileHandleForReading
        while !text.contains("port "), process.isRunning {
            text += String(decoding: handle.availableData, as: UTF8.self)
        }
        guard let r = text.range(of: "port "), let p = Int(text[r.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw LoopbackServerError(output: text)
        }
        port = p
    }

    public var url: String { "http://127.0.0.1:\(port)/" }

    static let rangeServer = """
        import http.server, os, sys
        root = sys.argv[1]
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                path = os.path.join(root, self.path.lstrip('/'))
                if not os.path.isfile(path):
                    self.send_error(404); return
                data = open(path, 'rb').read()
                start = 0
                r = self.headers.get('Range')
                if r and r.startswith('bytes='):
                    start = int(r[6:].split('-')[0])
                    open(os.path.join(root, 'ranges.log'), 'a').write(self.path + ' ' + str(start) + '\\n')
                    self.send_response(206)
                    self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, len(data) - 1, len(data)))
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])
        s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        print('Serving HTTP on 127.0.0.1 port %d' % s.server_address[1], flush=True)
        s.serve_forever()
        """
    // SIGKILL: the child inherits the test runner's blocked signal mask, so SIGTERM never arrives.
    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

public let hasPython: Bool = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "--version"]
    p.standardOutput = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()
