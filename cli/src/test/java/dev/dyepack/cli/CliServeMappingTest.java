package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dyepack serve --request-path --response-path} in front of a KServe v2 service, from the command line. */
class CliServeMappingTest {
    @TempDir
    Path dir;

    @Test
    void serveMapsAKserveV2Service() throws Exception {
        Path key = Files.writeString(dir.resolve("owner.key"), "serve mapping cli test key, 32 b");
        HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // A fixed model: every query gets the same three-class probabilities, in KServe v2's JSON.
        upstream.createContext("/v2/models/m/infer", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] out = ("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"probs\",\"shape\":[2,3],\"datatype\":\"FP32\","
                    + "\"data\":[0.2,0.5,0.3,0.2,0.5,0.3]}]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        upstream.start();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve("marks");
        Thread serving = new Thread(() -> CliTest.run("serve", "--upstream", "http://127.0.0.1:"
                + upstream.getAddress().getPort() + "/v2/models/m/infer", "--port", String.valueOf(port), "--log",
                log.toString(), "--request-path", "/inputs/0", "--response-path", "/outputs/0", "--log-segment-size",
                "1M", "--log-max-size", "16M", "--key-file", key.toString(), "--backend", "cpu"));
        serving.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> answer = null;
            String request = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
            for (int attempt = 0; attempt < 100 && answer == null; attempt++) {
                try {
                    answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                            .header("X-API-Key", "k-1").POST(HttpRequest.BodyPublishers.ofString(request)).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (ConnectException e) {
                    Thread.sleep(100);
                }
            }
            assertTrue(answer != null, "the proxy started");
            assertEquals(200, answer.statusCode(), answer.body());
            // Fewer answers than the marker's warm-up: served as the upstream wrote them, in its document.
            assertEquals("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"probs\",\"shape\":[2,3],\"datatype\":\"FP32\","
                    + "\"data\":[0.2,0.5,0.3,0.2,0.5,0.3]}]}", answer.body());
            HttpResponse<String> flat = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                    .header("X-API-Key", "k-1").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"instances\":[[1,2],[3,4]]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, flat.statusCode());
            assertTrue(flat.body().contains("/inputs"), flat.body());
        } finally {
            serving.interrupt();
            serving.join(10_000);
            upstream.stop(0);
        }
        assertFalse(serving.isAlive(), "serve stops when interrupted");
    }
}
