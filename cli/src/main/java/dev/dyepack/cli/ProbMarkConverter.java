package dev.dyepack.cli;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.mark.ProbMark;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --prob-mark}: {@code swap}, {@code shift} or {@code shift:MARGIN}, checked before anything runs. */
final class ProbMarkConverter implements ITypeConverter<ProbMark> {
    /** The option's description, shared by {@code mark} and {@code serve}. */
    static final String DESCRIPTION = "How a marked answer brings the runner-up to the top: shift[:MARGIN] moves "
            + "probability mass from the top class to the runner-up until it leads by MARGIN (default "
            + ProbMark.DEFAULT_MARGIN + "; for logits the same shift of their softmax), every other class unchanged; "
            + "swap exchanges the two largest values. Recorded in the log. Default: shift:" + ProbMark.DEFAULT_MARGIN
            + ".";

    @Override
    public ProbMark convert(String value) {
        try {
            return ProbMark.parse(value);
        } catch (InvalidArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
