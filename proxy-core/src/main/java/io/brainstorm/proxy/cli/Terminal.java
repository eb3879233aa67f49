package io.brainstorm.proxy.cli;

import java.io.Console;
import java.lang.reflect.Method;

/**
 * The terminal a person runs the command line from, if there is one. A secret may be printed only
 * when {@link #present()}: otherwise stdout is a file, a pipe or a log. Secrets typed in are read
 * without echo. {@link Main} passes {@link #system()}; tests pass a fake.
 */
interface Terminal {
    /** No terminal: stdin and stdout are files or pipes. */
    Terminal NONE = new Terminal() {
        @Override
        public boolean present() {
            return false;
        }

        @Override
        public char[] readSecret(String prompt) {
            throw new IllegalStateException("no terminal");
        }

        @Override
        public String readLine(String prompt) {
            throw new IllegalStateException("no terminal");
        }
    };

    /** True when stdin and stdout are a terminal, so what is printed reaches a person and nothing else. */
    boolean present();

    /** Prompts and reads one line without echo; null at end of input. Only when {@link #present()}. */
    char[] readSecret(String prompt);

    /** Prompts and reads one line; null at end of input. Only when {@link #present()}. */
    String readLine(String prompt);

    /**
     * This process's terminal: {@link System#console()}, and on JDK 22 and later also
     * {@code Console.isTerminal()}, since from 22 on {@code System.console()} is not null when the
     * streams are redirected.
     */
    static Terminal system() {
        Console console = System.console();
        if (console == null || !isTerminal(console)) {
            return NONE;
        }
        return new Terminal() {
            @Override
            public boolean present() {
                return true;
            }

            @Override
            public char[] readSecret(String prompt) {
                return console.readPassword("%s", prompt);
            }

            @Override
            public String readLine(String prompt) {
                return console.readLine("%s", prompt);
            }
        };
    }

    private static boolean isTerminal(Console console) {
        Method isTerminal;
        try {
            isTerminal = Console.class.getMethod("isTerminal");
        } catch (NoSuchMethodException e) {
            return true; // before JDK 22 a console exists only on a terminal
        }
        try {
            return (Boolean) isTerminal.invoke(console);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
