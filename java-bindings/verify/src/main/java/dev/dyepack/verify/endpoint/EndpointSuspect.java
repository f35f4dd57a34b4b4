package dev.dyepack.verify.endpoint;

import dev.dyepack.InvalidInputException;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.SuspectModel;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

/**
 * A suspect behind an HTTP prediction service: each probe file is sent in batches, and the answers are
 * checked (count, type, range) before they become {@link Answers}. Any failure — a time-out after the
 * last retry, an HTTP error, an answer of the wrong shape — is an {@link InvalidInputException} naming
 * it, so no verdict is ever computed from a broken answer.
 *
 * <p>Default request: {@code POST} with {@code Content-Type: application/json} and the body
 * {@code {"instances": [p1, p2, ...]}}, each probe as nested arrays (H, W) or (H, W, C) or as
 * {@code {"b64": "<PNG>"}}. Default response: {@code {"predictions": [a1, a2, ...]}}, one answer per
 * probe in order, each a class label (an integer) or a list of C probabilities. See
 * {@link EndpointSettings} for the other shapes, retries and limits.
 *
 * <p>Thread-safe for sequential use by one verification at a time (requests are sent one after another).
 */
public final class EndpointSuspect implements SuspectModel {
    private final EndpointSettings settings;
    private final int classes;
    private final HttpClient client;
    private long nextStartNanos = System.nanoTime();

    /**
     * @param settings the service and how to talk to it
     * @param classes  C, the number of classes of the manifest's data
     * @throws InvalidInputException if classes is below 2
     */
    public EndpointSuspect(EndpointSettings settings, int classes) {
        if (classes < 2) {
            throw new InvalidInputException("answers need at least 2 classes, got " + classes);
        }
        this.settings = settings;
        this.classes = classes;
        // Redirects are not followed: the client would send the API key on to wherever it points.
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(settings.timeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        // Plain http gets HTTP/1.1: an h2c upgrade is rarely served and costs a round trip; https
        // negotiates HTTP/2 or 1.1 by ALPN.
        if (settings.uri().getScheme().equalsIgnoreCase("http")) {
            b.version(HttpClient.Version.HTTP_1_1);
        }
        if (!settings.trustedCertificates().isEmpty()) {
            b.sslContext(sslContextTrusting(settings.trustedCertificates()));
        }
        this.client = b.build();
    }

    /** A TLS context that trusts exactly the given certificates (host names are still checked). */
    private static SSLContext sslContextTrusting(List<X509Certificate> certificates) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("trusted-" + i, certificates.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new InvalidInputException("cannot set up TLS with the certificates given: " + e.getMessage(), e);
        }
    }

    /**
     * A service's answers to one probe file as it gave them: a label per probe, or a row of C finite scores per
     * probe, not yet taken for probabilities. {@link #answer} takes them for probabilities; a caller that also
     * accepts logits (the answer-mark verification) reads them from here.
     *
     * @param name    the probe file, for messages
     * @param n       probes
     * @param classes C
     * @param labels  the labels, or null when the service answered scores
     * @param scores  n x C scores, row-major, or null when it answered labels
     */
    public record Scores(String name, int n, int classes, int[] labels, double[] scores) {
        /** @return whether the service answered labels (else scores) */
        public boolean labelsOnly() {
            return scores == null;
        }
    }

    /**
     * Sends the probes in batches and gathers the answers.
     *
     * @param probes the samples of one probe file
     * @return the answers, labels or probabilities (every batch must answer in the same form)
     * @throws InvalidInputException if the service cannot be reached within the retries, answers an HTTP
     *                               error, or answers anything but one valid answer per probe
     */
    @Override
    public synchronized Answers answer(Probes probes) {
        Scores s = scores(probes);
        try {
            if (s.labelsOnly()) {
                return Answers.ofLabels(s.labels(), classes);
            }
            float[] p = new float[s.scores().length];
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) s.scores()[i];
            }
            return Answers.ofProbabilities(p, s.n(), classes);
        } catch (InvalidInputException e) {
            throw bad(probes.name(), e.getMessage());
        }
    }

    /**
     * Sends the probes in batches and gathers the answers as the service gave them: labels in [0, C), or rows of C
     * finite numbers (probabilities or logits: that is for the caller to decide).
     *
     * @param probes the samples of one probe file
     * @return the answers (every batch must answer in the same form)
     * @throws InvalidInputException if the service cannot be reached within the retries, answers an HTTP
     *                               error, or answers anything but one label or one row of C finite numbers
     *                               per probe
     */
    public synchronized Scores scores(Probes probes) {
        int n = probes.size();
        int per = probes.values().length / Math.max(n, 1);
        int[] labels = new int[n];
        double[] scores = null;
        Boolean asLabels = null;
        for (int start = 0; start < n; start += settings.batch()) {
            int count = Math.min(settings.batch(), n - start);
            String where = where(probes.name(), start, count);
            List<?> answers = answersOf(send(body(probes, start, count, per), where), count, where);
            for (int i = 0; i < count; i++) {
                Object a = answers.get(i);
                boolean label = a instanceof Number;
                if (!label && !(a instanceof List<?>)) {
                    throw bad(where, "answer " + (start + i) + " is " + describe(a)
                            + "; expected a class label or a list of class scores");
                }
                if (asLabels == null) {
                    asLabels = label;
                    scores = label ? null : new double[Math.multiplyExact(n, classes)];
                } else if (asLabels != label) {
                    throw bad(where, "answer " + (start + i) + " is " + (label ? "a label" : "a list of scores")
                            + " but earlier answers were not; answer all probes in one form");
                }
                if (label) {
                    labels[start + i] = label(a, start + i, where);
                } else {
                    scoresOf((List<?>) a, start + i, where, scores);
                }
            }
        }
        boolean l = asLabels == null || asLabels;
        return new Scores(probes.name(), n, classes, l ? labels : null, l ? null : scores);
    }

    private String where(String file, int start, int count) {
        return file + " probes " + start + ".." + (start + count - 1);
    }

    private InvalidInputException bad(String where, String what) {
        return new InvalidInputException("endpoint " + settings.uri() + " (" + where + "): " + what);
    }

    private int label(Object a, int i, String where) {
        double d = ((Number) a).doubleValue();
        if (d != Math.rint(d) || d < 0 || d >= classes) {
            throw bad(where, "answer " + i + " is " + describe(a) + ", not a class in [0, " + classes + ")");
        }
        return (int) d;
    }

    private void scoresOf(List<?> row, int i, String where, double[] out) {
        if (row.size() != classes) {
            throw bad(where, "answer " + i + " has " + row.size() + " scores; the probe set's data has " + classes
                    + " classes");
        }
        for (int c = 0; c < classes; c++) {
            if (!(row.get(c) instanceof Number d)) {
                throw bad(where, "score " + c + " of answer " + i + " is " + describe(row.get(c)) + ", not a number");
            }
            double v = d.doubleValue();
            if (!Double.isFinite(v)) {
                throw bad(where, "score " + c + " of answer " + i + " is " + v + "; scores must be finite");
            }
            out[i * classes + c] = v;
        }
    }

    private static String describe(Object v) {
        if (v instanceof String s) {
            return "the string " + (s.length() > 40 ? '"' + s.substring(0, 40) + "...\"" : '"' + s + '"');
        }
        if (v instanceof Map<?, ?>) {
            return "an object";
        }
        if (v instanceof List<?>) {
            return "a list";
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }
        return String.valueOf(v);
    }

    private List<?> answersOf(String body, int count, String where) {
        Object doc;
        try {
            doc = ResponseJson.parse(body);
        } catch (IllegalArgumentException e) {
            throw bad(where, "the answer is " + e.getMessage() + " (body starts: " + excerpt(body) + ")");
        }
        Object at;
        try {
            at = ResponseJson.at(doc, settings.responsePath());
        } catch (IllegalArgumentException e) {
            throw bad(where, e.getMessage() + " (response path \"" + settings.responsePath() + "\")");
        }
        if (!(at instanceof List<?> list)) {
            throw bad(where, "the answer at \"" + settings.responsePath() + "\" is " + describe(at)
                    + ", not a list of answers");
        }
        if (list.size() != count) {
            throw bad(where, "the service answered " + list.size() + " predictions for " + count + " probes");
        }
        return list;
    }

    private String body(Probes probes, int start, int count, int per) {
        StringBuilder b = new StringBuilder(count * per * 4 + 32).append('[');
        long[] shape = probes.shape();
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? "" : ",");
            int offset = (start + i) * per;
            if (settings.images() == EndpointSettings.ImageEncoding.PNG) {
                b.append("{\"b64\":\"").append(Base64.getEncoder().encodeToString(png(probes, offset))).append("\"}");
            } else {
                array(b, probes.values(), offset, shape, 1);
            }
        }
        String instances = b.append(']').toString();
        String template = settings.requestTemplate();
        return template == null ? "{\"instances\":" + instances + "}"
                : template.replace(EndpointSettings.PLACEHOLDER, instances);
    }

    /** Writes the sample at {@code offset} with dimensions shape[dim..] as nested arrays. */
    private static int array(StringBuilder b, float[] v, int offset, long[] shape, int dim) {
        if (dim == shape.length) {
            float x = v[offset];
            if (x == Math.rint(x) && Math.abs(x) < 1 << 24) {
                b.append((long) x);
            } else {
                b.append(Float.toString(x).toLowerCase(Locale.ROOT));
            }
            return offset + 1;
        }
        b.append('[');
        for (long k = 0; k < shape[dim]; k++) {
            b.append(k == 0 ? "" : ",");
            offset = array(b, v, offset, shape, dim + 1);
        }
        b.append(']');
        return offset;
    }

    private static byte[] png(Probes probes, int offset) {
        long[] s = probes.shape();
        int h = (int) s[1];
        int w = (int) s[2];
        int ch = s.length == 4 ? (int) s[3] : 1;
        int type = switch (ch) {
            case 1 -> BufferedImage.TYPE_BYTE_GRAY;
            case 3 -> BufferedImage.TYPE_INT_RGB;
            case 4 -> BufferedImage.TYPE_INT_ARGB;
            default -> throw new InvalidInputException("PNG probes need 1, 3 or 4 channels, the probe file has " + ch);
        };
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int[] c = new int[ch];
                for (int k = 0; k < ch; k++) {
                    float f = probes.values()[offset + (y * w + x) * ch + k];
                    if (f != Math.rint(f) || f < 0 || f > 255) {
                        throw new InvalidInputException(probes.name() + " holds " + f + "; PNG probes need uint8 "
                                + "values (send float probes as arrays)");
                    }
                    c[k] = (int) f;
                }
                if (ch == 1) {
                    img.getRaster().setSample(x, y, 0, c[0]);
                } else {
                    img.setRGB(x, y, (ch == 4 ? c[3] << 24 : 0) | c[0] << 16 | c[1] << 8 | c[2]);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** POSTs one body, retrying what may pass (connection errors, time-outs, 429, 5xx) with backoff. */
    private String send(String body, String where) {
        HttpRequest.Builder rb = HttpRequest.newBuilder(settings.uri()).timeout(settings.timeout())
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (settings.apiKey() != null) {
            rb.header(settings.apiKey().header(), settings.apiKey().headerValue());
        }
        HttpRequest request = rb.build();
        String last = null;
        long wait = settings.backoff().toMillis();
        for (int attempt = 0; attempt <= settings.retries(); attempt++) {
            if (attempt > 0) {
                sleep(wait);
                wait = Math.min(wait * 2, EndpointSettings.MAX_BACKOFF.toMillis());
            }
            pace();
            HttpResponse<String> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (HttpTimeoutException e) {
                last = "no answer within " + seconds() + " (time-out)";
                continue;
            } catch (IOException e) {
                SSLException tls = tlsFailure(e);
                if (tls != null) {
                    // Not retried: a certificate that is not trusted now will not be trusted in a second.
                    throw bad(where, "the TLS handshake with " + settings.uri().getHost() + " failed ("
                            + tls.getMessage() + "): the service's certificate is not trusted or does not name that "
                            + "host; for a private CA or a self-signed service, trust its certificate explicitly");
                }
                last = "connection failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw bad(where, "interrupted while waiting for the service");
            }
            int code = response.statusCode();
            if (code >= 200 && code < 300) {
                return response.body();
            }
            if (code == 429 || code >= 500) {
                last = "HTTP " + code;
                // A service that says when to come back is waited for that long (within the backoff's cap).
                long asked = retryAfterMillis(response);
                if (asked > wait) {
                    wait = Math.min(asked, EndpointSettings.MAX_BACKOFF.toMillis());
                    last += " (asked to retry after " + (asked + 999) / 1000 + " s)";
                }
                continue;
            }
            if (code == 401 || code == 403) {
                throw bad(where, "the service refused authentication (HTTP " + code + "); "
                        + (settings.apiKey() == null ? "no API key was given" : "the API key in header "
                                + settings.apiKey().header() + " was not accepted"));
            }
            throw bad(where, "the service answered HTTP " + code + " (" + excerpt(response.body()) + ")");
        }
        throw bad(where, "no answer after " + (settings.retries() + 1) + " attempt" + (settings.retries() == 0 ? ""
                : "s") + "; last: " + last);
    }

    /** The handshake failure behind an I/O error, or null when it is not one. */
    private static SSLException tlsFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLHandshakeException || t instanceof javax.net.ssl.SSLPeerUnverifiedException) {
                return (SSLException) t;
            }
        }
        return null;
    }

    /**
     * RFC 9110's Retry-After: delay-seconds or an HTTP date.
     *
     * @return the wait it asks for, in milliseconds; 0 when absent or unreadable
     */
    static long retryAfterMillis(HttpResponse<?> response) {
        return retryAfterMillis(response.headers().firstValue("Retry-After").orElse(null), Instant.now());
    }

    static long retryAfterMillis(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        String v = value.trim();
        if (v.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            return v.length() > 9 ? Long.MAX_VALUE / 2 : Long.parseLong(v) * 1000;
        }
        try {
            Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return Math.max(0, Duration.between(now, at).toMillis());
        } catch (DateTimeParseException e) {
            return 0;
        }
    }

    private String seconds() {
        return String.format(Locale.ROOT, "%.3gs", settings.timeout().toMillis() / 1000.0);
    }

    /** Holds each request start at least 1/rate after the previous one. */
    private void pace() {
        if (settings.ratePerSecond() <= 0) {
            return;
        }
        long now = System.nanoTime();
        long start = Math.max(now, nextStartNanos);
        nextStartNanos = start + (long) (1e9 / settings.ratePerSecond());
        sleep((start - now) / 1_000_000);
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InvalidInputException("interrupted while waiting to call the service");
        }
    }

    /** The start of a body for a message: one line, at most 120 characters. */
    private static String excerpt(String body) {
        if (body == null || body.isEmpty()) {
            return "empty body";
        }
        String s = body.length() > 120 ? body.substring(0, 120) + "..." : body;
        return s.replaceAll("\\p{Cntrl}", " ");
    }
}
