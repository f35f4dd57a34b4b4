package dev.dyepack.verify.endpoint;

import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How to reach a prediction service and how to talk to it. Build with {@link #builder(URI)}; every
 * value is checked when built.
 *
 * @param uri              the service's URL, {@code http} or {@code https}; each batch is POSTed to it
 * @param batch            probes per request
 * @param timeout          the longest wait for a connection and, separately, for a whole answer
 * @param retries          further attempts after a failed one (connection error, time-out, HTTP 429 or
 *                         5xx); other HTTP errors are never retried
 * @param backoff          the wait before the first retry; it doubles before each next one, up to
 *                         {@link #MAX_BACKOFF}
 * @param ratePerSecond    the most requests started per second; 0 for no limit
 * @param images           how each probe is written in the request
 * @param requestTemplate  a JSON text holding the placeholder {@value #PLACEHOLDER} (with its quotes) where
 *                         the array of probes goes; null for the default {@code {"instances": [...]}}
 * @param responsePath     an RFC 6901 pointer to the array of answers in the response
 * @param apiKey           the API key, or null for none
 * @param trustedCertificates for {@code https}: the certificates to trust instead of the JDK's default
 *                         trust store (a private CA, or a self-signed service); empty for the default. The
 *                         host name is checked against the service's certificate either way.
 */
public record EndpointSettings(URI uri, int batch, Duration timeout, int retries, Duration backoff,
        double ratePerSecond, ImageEncoding images, String requestTemplate, String responsePath, ApiKey apiKey,
        List<X509Certificate> trustedCertificates) {
    /** Default probes per request. */
    public static final int DEFAULT_BATCH = 100;
    /** Default time-out. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Default retries. */
    public static final int DEFAULT_RETRIES = 3;
    /** Default first backoff. */
    public static final Duration DEFAULT_BACKOFF = Duration.ofMillis(500);
    /** The longest wait between two attempts. */
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(60);
    /** Default pointer to the answers. */
    public static final String DEFAULT_RESPONSE_PATH = "/predictions";
    /** The request template's placeholder for the array of probes, quotes included. */
    public static final String PLACEHOLDER = "\"{{instances}}\"";
    /** Most retries allowed, so that a dead service cannot hold a verification for ever. */
    public static final int MAX_RETRIES = 20;

    /** How a probe image is written in a request. */
    public enum ImageEncoding {
        /** Nested arrays, (H, W) or (H, W, C), of the stored values (0..255 for uint8 probes). */
        ARRAY,
        /** {@code {"b64": "<base64 PNG>"}}; uint8 probes with 1, 3 or 4 channels only. */
        PNG
    }

    /**
     * Checks every value.
     *
     * @throws InvalidInputException for a URL that is not absolute http(s), a batch below 1, a
     *                               non-positive time-out, retries outside [0, {@value #MAX_RETRIES}], a negative
     *                               backoff or rate, a template without exactly one placeholder, or a
     *                               response path that is not a JSON pointer
     */
    public EndpointSettings {
        if (uri == null || uri.getScheme() == null || uri.getHost() == null
                || !(uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"))) {
            throw new InvalidInputException("the endpoint " + uri + " is not an absolute http:// or https:// URL");
        }
        if (uri.getRawUserInfo() != null) {
            throw new InvalidInputException("the endpoint URL must not hold credentials; give an API key instead");
        }
        if (batch < 1) {
            throw new InvalidInputException("the batch size must be at least 1, got " + batch);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new InvalidInputException("the time-out must be positive, got " + timeout);
        }
        if (retries < 0 || retries > MAX_RETRIES) {
            throw new InvalidInputException("retries must lie in [0, " + MAX_RETRIES + "], got " + retries);
        }
        if (backoff == null || backoff.isNegative()) {
            throw new InvalidInputException("the backoff must not be negative, got " + backoff);
        }
        if (!(ratePerSecond >= 0) || Double.isInfinite(ratePerSecond)) {
            throw new InvalidInputException("the request rate must be a finite number >= 0, got " + ratePerSecond);
        }
        if (images == null) {
            throw new InvalidInputException("no image encoding given");
        }
        if (requestTemplate != null) {
            int at = requestTemplate.indexOf(PLACEHOLDER);
            if (at < 0 || requestTemplate.indexOf(PLACEHOLDER, at + 1) >= 0) {
                throw new InvalidInputException("the request template must hold the placeholder " + PLACEHOLDER
                        + " exactly once");
            }
            try {
                ResponseJson.parse(requestTemplate);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("the request template is " + e.getMessage(), e);
            }
        }
        trustedCertificates = trustedCertificates == null ? List.of() : List.copyOf(trustedCertificates);
        if (!trustedCertificates.isEmpty() && !uri.getScheme().equalsIgnoreCase("https")) {
            throw new InvalidInputException("certificates to trust are for https endpoints; " + uri + " is plain http");
        }
        if (responsePath == null || !(responsePath.isEmpty() || responsePath.startsWith("/"))) {
            throw new InvalidInputException("the response path " + responsePath + " is not a JSON pointer (\"\" or "
                    + "/name/...)");
        }
    }

    /**
     * @param uri the service's URL
     * @return a builder with the defaults
     */
    public static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /** Builds {@link EndpointSettings}; starts from the defaults. */
    public static final class Builder {
        private final URI uri;
        private int batch = DEFAULT_BATCH;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int retries = DEFAULT_RETRIES;
        private Duration backoff = DEFAULT_BACKOFF;
        private List<X509Certificate> trusted = List.of();
        private double rate;
        private ImageEncoding images = ImageEncoding.ARRAY;
        private String requestTemplate;
        private String responsePath = DEFAULT_RESPONSE_PATH;
        private ApiKey apiKey;

        private Builder(URI uri) {
            this.uri = uri;
        }

        /**
         * @param v probes per request
         * @return this
         */
        public Builder batch(int v) {
            batch = v;
            return this;
        }

        /**
         * @param v the time-out
         * @return this
         */
        public Builder timeout(Duration v) {
            timeout = v;
            return this;
        }

        /**
         * @param v further attempts after a failed one
         * @return this
         */
        public Builder retries(int v) {
            retries = v;
            return this;
        }

        /**
         * @param v the wait before the first retry
         * @return this
         */
        public Builder backoff(Duration v) {
            backoff = v;
            return this;
        }

        /**
         * @param v requests per second, 0 for no limit
         * @return this
         */
        public Builder ratePerSecond(double v) {
            rate = v;
            return this;
        }

        /**
         * @param v the image encoding
         * @return this
         */
        public Builder images(ImageEncoding v) {
            images = v;
            return this;
        }

        /**
         * @param v a JSON request template with {@value EndpointSettings#PLACEHOLDER}, or null
         * @return this
         */
        public Builder requestTemplate(String v) {
            requestTemplate = v;
            return this;
        }

        /**
         * @param v a JSON pointer to the answers
         * @return this
         */
        public Builder responsePath(String v) {
            responsePath = v;
            return this;
        }

        /**
         * @param v the API key, or null
         * @return this
         */
        public Builder apiKey(ApiKey v) {
            apiKey = v;
            return this;
        }

        /**
         * @param v the certificates to trust for https instead of the default trust store; empty or null
         *          for the default
         * @return this
         */
        public Builder trustedCertificates(List<X509Certificate> v) {
            trusted = v == null ? List.of() : List.copyOf(v);
            return this;
        }

        /**
         * Trusts the certificates of a PEM (or DER) file instead of the default trust store, as
         * {@code curl --cacert} does: for a service behind a private CA or with a self-signed certificate.
         *
         * @param file the certificates, or null for the default trust store
         * @return this
         * @throws InvalidInputException if the file cannot be read or holds no X.509 certificate
         */
        public Builder trustedCertificates(Path file) {
            if (file == null) {
                trusted = List.of();
                return this;
            }
            List<X509Certificate> certs = new ArrayList<>();
            try (InputStream in = Files.newInputStream(file)) {
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    certs.add((X509Certificate) c);
                }
            } catch (IOException e) {
                throw new InvalidInputException("cannot read the certificates to trust, " + file + ": " + e.getMessage(),
                        e);
            } catch (CertificateException e) {
                throw new InvalidInputException(file + " does not hold X.509 certificates in PEM or DER form: "
                        + e.getMessage(), e);
            }
            if (certs.isEmpty()) {
                throw new InvalidInputException(file + " holds no certificate");
            }
            trusted = certs;
            return this;
        }

        /**
         * @return the settings
         * @throws InvalidInputException if a value is out of range (see {@link EndpointSettings})
         */
        public EndpointSettings build() {
            return new EndpointSettings(uri, batch, timeout, retries, backoff, rate, images, requestTemplate,
                    responsePath, apiKey, trusted);
        }
    }
}
