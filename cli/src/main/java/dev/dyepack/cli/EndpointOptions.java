package dev.dyepack.cli;

import dev.dyepack.InvalidInputException;
import dev.dyepack.verify.endpoint.ApiKey;
import dev.dyepack.verify.endpoint.EndpointSettings;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * How to reach a suspect's prediction service ({@code verify --endpoint}, {@code monitor}). The API key
 * comes from a file or {@code DYEPACK_API_KEY}, never from an argument, and is never printed.
 */
final class EndpointOptions {
    @Option(names = "--endpoint", paramLabel = "URL",
            description = "The suspect's prediction service (http:// or https://); each batch of probes is POSTed "
                    + "to it (shapes: docs/verification.md).")
    String url;

    @Option(names = "--batch", paramLabel = "N", description = "Probes per request.")
    int batch = EndpointSettings.DEFAULT_BATCH;

    @Option(names = "--timeout", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Longest wait to connect and for each answer (e.g. 500ms, 30s, 2m).")
    Duration timeout = EndpointSettings.DEFAULT_TIMEOUT;

    @Option(names = "--retries", paramLabel = "N",
            description = "Further attempts after a connection error, time-out, HTTP 429 or 5xx (never after other "
                    + "HTTP errors); the wait doubles from --backoff.")
    int retries = EndpointSettings.DEFAULT_RETRIES;

    @Option(names = "--backoff", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Wait before the first retry.")
    Duration backoff = EndpointSettings.DEFAULT_BACKOFF;

    @Option(names = "--rate", paramLabel = "N/s", converter = RateConverter.class,
            description = "Most requests per second (0: no limit).")
    double rate;

    @Option(names = "--images", paramLabel = "FORM",
            description = "How probes are sent: ${COMPLETION-CANDIDATES} (array: nested arrays; png: {\"b64\": ...}).")
    EndpointSettings.ImageEncoding images = EndpointSettings.ImageEncoding.ARRAY;

    @Option(names = "--request-template", paramLabel = "FILE",
            description = "A JSON request body holding \"{{instances}}\" (with the quotes) where the probes go; "
                    + "default {\"instances\": [...]}.")
    Path requestTemplate;

    @Option(names = "--response-path", paramLabel = "POINTER",
            description = "JSON pointer (RFC 6901) to the array of answers in the response.")
    String responsePath = EndpointSettings.DEFAULT_RESPONSE_PATH;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "The service's API key (else the DYEPACK_API_KEY environment variable); never given on "
                    + "the command line, never printed.")
    Path apiKeyFile;

    @Option(names = "--api-key-header", paramLabel = "NAME",
            description = "The header carrying the API key (Authorization sends \"Bearer KEY\"; any other the key "
                    + "as is).")
    String apiKeyHeader = ApiKey.DEFAULT_HEADER;

    @Option(names = "--ca-cert", paramLabel = "FILE",
            description = "For https: trust the certificates in this PEM file instead of the default trust store "
                    + "(a private CA or a self-signed service); the host name is still checked.")
    Path caCert;

    /**
     * @param env the environment to read DYEPACK_API_KEY from
     * @return the settings
     * @throws InvalidInputException for a malformed URL, an unreadable template or key file, or a value
     *                               out of range
     */
    EndpointSettings settings(Map<String, String> env) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new InvalidInputException("the endpoint " + url + " is not a URL: " + e.getReason());
        }
        String template = null;
        if (requestTemplate != null) {
            try {
                template = Files.readString(requestTemplate);
            } catch (IOException e) {
                throw new InvalidInputException("cannot read the request template " + requestTemplate + ": " + e, e);
            }
        }
        return EndpointSettings.builder(uri).batch(batch).timeout(timeout).retries(retries).backoff(backoff)
                .ratePerSecond(rate).images(images).requestTemplate(template).responsePath(responsePath)
                .apiKey(ApiKey.resolve(apiKeyHeader, apiKeyFile, env).orElse(null)).trustedCertificates(caCert)
                .build();
    }

    /** A time such as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h} or {@code 1d}. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern FORM = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");

        @Override
        public Duration convert(String value) {
            Matcher m = FORM.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a time such as 500ms, "
                        + "30s, 5m, 1h or 1d");
            }
            double unit = switch (m.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                default -> 86400e9;
            };
            return Duration.ofNanos(Math.round(Double.parseDouble(m.group(1)) * unit));
        }
    }

    /** A rate such as {@code 5}, {@code 5/s} or {@code 0.5/s}. */
    static final class RateConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            String v = value.trim();
            if (v.endsWith("/s")) {
                v = v.substring(0, v.length() - 2);
            }
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a rate such as 5/s");
            }
        }
    }
}
