// Mail calls with Java's own java.net.http.HttpClient through graphtape; prints one JSON document of results.
// A single-file program: `java GraphMail.java WAY SCENARIO...` (JDK 11+), no build tool and no download.
//
// Ways: "code"    the client names the proxy (ProxySelector.of) and trusts graphtape's CA (GRAPHTAPE_CA, PEM)
//                 through its own SSLContext;
//       "flags"   the client is built with defaults, as unchanged application code is; the JVM is started with
//                 -Dhttps.proxyHost/-Dhttps.proxyPort and -Djavax.net.ssl.trustStore holding graphtape's CA;
//       "reverse" no proxy: graphtape started with --reverse, and the base URL is its http URL (GRAPHTAPE_BASE_URL).
// Scenarios: draft-send (create a draft from JSON, then send it), sendmail-mime (sendMail with a base64 MIME
// message), broken-mime (the same with a body that is not base64).
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class GraphMail {
    static final String MIME = String.join("\r\n",
        "From: Alex Wilber <AlexW@contoso.com>",
        "To: Megan Bowen <MeganB@contoso.com>",
        "Subject: Quarterly report (MIME, from Java)",
        "Date: Mon, 30 Nov 2026 09:00:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=\"utf-8\"",
        "",
        "The figures are attached.",
        "");
    static final String DRAFT = "{\"subject\":\"Quarterly report (from Java)\","
        + "\"body\":{\"contentType\":\"Text\",\"content\":\"Attached.\"},"
        + "\"toRecipients\":[{\"emailAddress\":{\"address\":\"megan@contoso.com\"}}]}";

    final HttpClient http;
    final String base;
    final String token;

    GraphMail(HttpClient http, String base, String token) {
        this.http = http;
        this.base = base;
        this.token = token;
    }

    static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("GraphMail.java: set " + name
                + " (graphtape prints it at start; tests/clients/test_java_client.py sets it)");
        }
        return value;
    }

    /** An SSLContext that trusts the one CA in a PEM file: graphtape's (mitmproxy's) certificate authority. */
    static SSLContext trusting(Path caPem) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            store.setCertificateEntry("graphtape", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    static GraphMail forWay(String way, String token) throws Exception {
        String graph = "https://graph.microsoft.com/v1.0";
        switch (way) {
            case "code": {
                URI proxy = URI.create(env("GRAPHTAPE_PROXY"));
                HttpClient http = HttpClient.newBuilder()
                    .proxy(ProxySelector.of(new InetSocketAddress(proxy.getHost(), proxy.getPort())))
                    .sslContext(trusting(Path.of(env("GRAPHTAPE_CA"))))
                    .connectTimeout(Duration.ofSeconds(10)).build();
                return new GraphMail(http, graph, token);
            }
            case "flags":
                return new GraphMail(HttpClient.newHttpClient(), graph, token);
            case "reverse": // HTTP/1.1: over plain http the client would otherwise ask for an h2c upgrade first
                HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                return new GraphMail(plain, env("GRAPHTAPE_BASE_URL") + "/v1.0", token);
            default:
                throw new IllegalArgumentException("GraphMail.java: unknown way \"" + way
                    + "\"; use code, flags or reverse");
        }
    }

    HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token);
        if (body == null) {
            request.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** The first string value of "name" in a JSON text (enough for Graph's flat answers; no JSON library here). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /** A non-2xx answer as the app sees it: the status and Graph's error code and message. */
    static String error(String scenario, HttpResponse<String> r) {
        return "{\"scenario\":" + quote(scenario) + ",\"error\":{\"status\":" + r.statusCode() + ",\"code\":"
            + quote(field(r.body(), "code")) + ",\"message\":" + quote(field(r.body(), "message")) + "}}";
    }

    String draftSend() throws Exception {
        HttpResponse<String> draft = post("/me/messages", "application/json", DRAFT);
        if (draft.statusCode() != 201) {
            return error("draft-send", draft);
        }
        String id = field(draft.body(), "id");
        HttpResponse<String> send = post("/me/messages/" + id + "/send", null, null);
        return "{\"scenario\":\"draft-send\",\"result\":{\"id\":" + quote(id) + ",\"subject\":"
            + quote(field(draft.body(), "subject")) + ",\"to\":" + quote(field(draft.body(), "address"))
            + ",\"send\":" + send.statusCode() + "}}";
    }

    String sendMime(String scenario, String base64) throws Exception {
        HttpResponse<String> r = post("/me/sendMail", "text/plain", base64);
        if (r.statusCode() / 100 != 2) {
            return error(scenario, r);
        }
        return "{\"scenario\":" + quote(scenario) + ",\"result\":{\"status\":" + r.statusCode() + "}}";
    }

    String run(String scenario) throws Exception {
        switch (scenario) {
            case "draft-send":
                return draftSend();
            case "sendmail-mime":
                return sendMime(scenario, Base64.getEncoder().encodeToString(MIME.getBytes(StandardCharsets.UTF_8)));
            case "broken-mime":
                return sendMime(scenario, "RnJvbTogQWxleCBXaWxiZXI=!!not base64!!");
            default:
                throw new IllegalArgumentException("GraphMail.java: unknown scenario \"" + scenario
                    + "\"; use draft-send, sendmail-mime or broken-mime");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: java GraphMail.java code|flags|reverse SCENARIO...");
            System.exit(2);
        }
        String token = System.getenv().getOrDefault("GRAPH_TOKEN", "graphtape-test-token");
        GraphMail mail = forWay(args[0], token);
        List<String> results = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            results.add(mail.run(args[i]));
        }
        System.out.println("[" + String.join(",", results) + "]");
    }
}
