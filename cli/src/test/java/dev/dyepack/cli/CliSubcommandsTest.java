package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line builds only the subcommand a run names, and everything else exactly as the whole tree does. */
class CliSubcommandsTest {

    @Test
    void everySubcommandIsRegisteredUnderItsOwnNameInTheHelpOrder() {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, java.util.function.Supplier<Object>> e : Main.SUBCOMMANDS.entrySet()) {
            CommandLine sub = new CommandLine(e.getValue().get());
            assertEquals(e.getKey(), sub.getCommandName(), "the name a run is looked up by is the command's own");
            names.add(e.getKey());
        }
        assertEquals(names, new ArrayList<>(Main.commandLine(Map.of()).getSubcommands().keySet()));
        CliTest.Run help = CliTest.run("--help");
        assertEquals(0, help.code());
        int at = -1;
        for (String n : names) {
            int i = help.out().indexOf("\n  " + n + " ");
            assertTrue(i > at, n + " is listed, in order: " + help.out());
            at = i;
        }
    }

    @Test
    void aRunNamingASubcommandBuildsThatOneAloneAndAnythingElseBuildsAll() {
        assertEquals(List.of("apply"), new ArrayList<>(Main.commandLine(Map.of(), "apply", "--help")
                .getSubcommands().keySet()));
        for (String[] args : new String[][] {{}, {"--stacktrace", "apply"}, {"help", "apply"}, {"aply"}}) {
            assertEquals(Main.SUBCOMMANDS.keySet(), Main.commandLine(Map.of(), args).getSubcommands().keySet());
        }
        // Inherited options and the error handling reach a subcommand built alone.
        CliTest.Run quiet = CliTest.run("triggers", "--quiet");
        assertEquals(0, quiet.code(), quiet.err());
        CliTest.Run bad = CliTest.run("apply", "--budget", "x");
        assertEquals(ExitCodes.INVALID_INPUT, bad.code());
        assertTrue(bad.err().startsWith("dyepack: ") && bad.err().contains("(see: dyepack apply --help)"), bad.err());
        // A mistyped name is refused by the whole tree, naming it.
        CliTest.Run typo = CliTest.run("aply");
        assertEquals(ExitCodes.INVALID_INPUT, typo.code());
        assertTrue(typo.err().contains("'aply'") && typo.err().contains("(see: dyepack --help)"), typo.err());
    }
}
