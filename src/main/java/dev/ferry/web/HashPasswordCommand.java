package dev.ferry.web;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/**
 * {@code java -jar ferry.jar hash-password}: reads a password (from the terminal without echo, or the first line of
 * standard input) and prints the {@code {bcrypt}…} value for {@code ferry.admin.password}.
 */
public final class HashPasswordCommand {

    public static final String NAME = "hash-password";
    static final int STRENGTH = 12;

    private HashPasswordCommand() {}

    public static int run(PrintStream out, PrintStream err) throws IOException {
        Console console = System.console();
        String password;
        if (console != null) {
            char[] typed = console.readPassword("Password for ferry.admin.password: ");
            password = typed == null ? null : new String(typed);
        } else {
            password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        if (password == null || password.isBlank()) {
            err.println("No password given: type one, or pass it on standard input.");
            return 2;
        }
        out.println(hash(password));
        return 0;
    }

    static String hash(String password) {
        return "{bcrypt}" + new BCryptPasswordEncoder(STRENGTH).encode(password);
    }
}
