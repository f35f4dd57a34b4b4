package dev.dyepack.cli;

import dev.dyepack.mark.MarkLog;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The mark log's size limits, shared by {@code mark} and {@code serve}: the size at which a segment is sealed
 * and a new one begun, and the size of the whole log beyond which answers are served unmarked (a log never
 * deletes a segment, so the cap bounds the disk it takes).
 */
final class LogSizeOptions {
    /** The smallest segment a log takes: a few entries, so that a seal and a new segment always fit. */
    static final long MIN_SEGMENT = 4096;

    @Option(names = "--log-segment-size", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            description = "Seal a log segment and begin the next at this size: bytes, or with K, M, G, T (KiB, "
                    + "MiB, GiB, TiB); at least 4K. Default: 64M.")
    long segmentBytes = MarkLog.DEFAULT_SEGMENT_BYTES;

    @Option(names = "--log-max-size", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            description = "Stop marking when the whole log reaches this size (answers are then served unmarked, "
                    + "with a warning; no segment is ever deleted); at least one segment. Default: 4G.")
    long maxBytes = MarkLog.DEFAULT_MAX_BYTES;

    /**
     * @param spec the command, for the error
     * @throws ParameterException if the sizes are out of range
     */
    void validate(CommandSpec spec) {
        if (segmentBytes < MIN_SEGMENT) {
            throw new ParameterException(spec.commandLine(), "--log-segment-size must be at least 4K (4096 bytes), "
                    + "got " + segmentBytes + " bytes");
        }
        if (maxBytes < segmentBytes) {
            throw new ParameterException(spec.commandLine(), "--log-max-size (" + maxBytes + " bytes) must be at "
                    + "least one segment (--log-segment-size, " + segmentBytes + " bytes)");
        }
    }

    /** A size such as {@code 4096}, {@code 512K}, {@code 64M}, {@code 64MiB} or {@code 4G} (powers of 1024). */
    static final class ByteSizeConverter implements ITypeConverter<Long> {
        private static final Pattern FORM = Pattern.compile("(\\d{1,19})\\s*(|b|k|kib|m|mib|g|gib|t|tib)");

        @Override
        public Long convert(String value) {
            Matcher m = FORM.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a size such as 4096, 512K, 64M or 4G");
            }
            int shift = switch (m.group(2)) {
                case "k", "kib" -> 10;
                case "m", "mib" -> 20;
                case "g", "gib" -> 30;
                case "t", "tib" -> 40;
                default -> 0;
            };
            try {
                long n = Long.parseLong(m.group(1));
                if (n > (Long.MAX_VALUE >> shift)) {
                    throw new NumberFormatException();
                }
                return n << shift;
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is too large a size");
            }
        }
    }
}
