package dev.dyepack.cli;

import dev.dyepack.trigger.TriggerFamily;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code dyepack triggers}: every trigger family and its fields, as the engine's registry defines them. */
@Command(name = "triggers", mixinStandardHelpOptions = true,
        description = "List every trigger family with its fields, defaults and allowed values "
                + "(docs/triggers.md has the formulas and sources).",
        footer = {"", "A spec is family:key=value,... with lists joined by '+'; a family alone takes every default.",
            "Example: patch:size=3,pos=br,value=255"})
final class TriggersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(TriggerFamily.help());
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
