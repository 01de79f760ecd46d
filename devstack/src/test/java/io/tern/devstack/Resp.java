package io.tern.devstack;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Minimal RESP client over a plain socket, so the tests depend on no Redis client library. */
final class Resp implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    Resp(String host, int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), 1_000);
        socket.setSoTimeout(5_000);
        out = socket.getOutputStream();
        in = new BufferedInputStream(socket.getInputStream());
    }

    /** Sends one command; returns a simple/integer/bulk reply, null for a nil bulk, and throws on an error reply. */
    String call(String... args) throws IOException {
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String a : args) {
            byte[] b = a.getBytes(StandardCharsets.UTF_8);
            req.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            req.writeBytes(b);
            req.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(req.toByteArray());
        out.flush();
        String line = readLine();
        switch (line.charAt(0)) {
            case '+':
            case ':':
                return line.substring(1);
            case '-':
                throw new IOException("redis error: " + line.substring(1));
            case '$':
                int len = Integer.parseInt(line.substring(1));
                if (len < 0) {
                    return null;
                }
                byte[] body = in.readNBytes(len + 2); // with the trailing CRLF
                if (body.length != len + 2) {
                    throw new IOException("connection closed");
                }
                return new String(body, 0, len, StandardCharsets.UTF_8);
            default:
                throw new IOException("unexpected reply " + line);
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
