package io.brainstorm.proxy.state;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * A second process on a state directory, started by the tests with the test class path:
 * <ul>
 *   <li>{@code race DIR KEY DAY AMOUNT BUDGET N}: reserves N times and settles each in full, then
 *       prints {@code granted=<total>};</li>
 *   <li>{@code hold DIR KEY DAY AMOUNT BUDGET N}: settles one reservation, then takes N and holds
 *       them, prints {@code holding} and waits to be killed;</li>
 *   <li>{@code lease DIR KEY DAY AMOUNT BUDGET N}: settles one reservation in full (taking a
 *       lease), prints {@code leased}, then, with N {@code 1}, keeps the lease in use (a reservation
 *       settled for nothing every few milliseconds) until killed, or with N {@code 0} leaves it idle;</li>
 *   <li>{@code open DIR}: opens the store and prints {@code opened}, or {@code failed} and the
 *       exception's message on one line;</li>
 *   <li>{@code answer DIR REQUEST_ID TENANT ENDPOINT}: remembers that {@code ENDPOINT} answered
 *       the request now, for task class {@code json/1k-8k}, and prints {@code remembered};</li>
 *   <li>{@code rate-share DIR KEY NOW TPM TOKENS}: one rate-window request of TOKENS at millis
 *       NOW (taking a share of the minute), prints {@code holding}, then keeps the share in use
 *       with requests of no tokens until killed;</li>
 *   <li>{@code rates DIR KEY NOW RPM TOKENS TPM N}: races N rate-window requests of TOKENS at
 *       millis NOW (printing {@code racing} once the first is counted), prints {@code granted=<requests granted>}
 *       and closes the store.</li>
 * </ul>
 * A line {@code go} on standard input starts a race, so both processes race from a common start.
 */
public final class StateChild {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path dir = Path.of(args[1]);
        if (mode.equals("open")) {
            try (StateStore store = StateStore.open(dir)) {
                System.out.println("opened");
            } catch (java.io.IOException e) {
                System.out.println("failed " + e.getMessage().replace('\n', ' '));
            }
            return;
        }
        if (mode.equals("answer")) {
            try (StateStore store = StateStore.open(dir)) {
                store.answers()
                        .remember(
                                args[2],
                                new io.brainstorm.proxy.route.AnswerLog.Answer(
                                        args[3],
                                        args[4],
                                        io.brainstorm.proxy.spi.TaskClass.of(false, true, 2_000),
                                        System.currentTimeMillis()));
                System.out.println("remembered");
            }
            return;
        }
        if (mode.equals("rate-share")) {
            try (StateStore store = StateStore.open(dir)) {
                long now = Long.parseLong(args[3]);
                long tpm = Long.parseLong(args[4]);
                if (store.rates().tryAcquire(args[2], now, 0, Long.parseLong(args[5]), tpm) != 0) {
                    System.exit(4);
                }
                System.out.println("holding");
                System.out.flush();
                for (int i = 0; i < 60_000 / 5; i++) {
                    // requests of no tokens keep the share in use without using it up
                    store.rates().tryAcquire(args[2], now, 0, 0, tpm);
                    Thread.sleep(5);
                }
            }
            return;
        }
        if (mode.equals("rates")) {
            try (StateStore store = StateStore.open(dir)) {
                System.out.println("ready");
                System.out.flush();
                if (!"go".equals(new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine())) {
                    System.exit(3);
                }
                RateWindows windows = store.rates();
                String key = args[2];
                long now = Long.parseLong(args[3]);
                int rpm = Integer.parseInt(args[4]);
                long tokens = Long.parseLong(args[5]);
                long tpm = Long.parseLong(args[6]);
                // one request first, so that the race starts with this process in it
                long granted = rates(windows, key, now, rpm, tokens, tpm, 1);
                System.out.println("racing");
                System.out.flush();
                granted += rates(windows, key, now, rpm, tokens, tpm, Integer.parseInt(args[7]) - 1);
                System.out.println("granted=" + granted);
            }
            return;
        }
        String key = args[2];
        LocalDate day = LocalDate.parse(args[3]);
        long amount = Long.parseLong(args[4]);
        long budget = Long.parseLong(args[5]);
        int n = Integer.parseInt(args[6]);
        try (StateStore store = StateStore.open(dir)) {
            BudgetLedger ledger = store.budgets();
            if (mode.equals("race")) {
                System.out.println("ready");
                System.out.flush();
                if (!"go".equals(new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine())) {
                    System.exit(3);
                }
                long granted = race(ledger, key, day, amount, budget, n);
                System.out.println("granted=" + granted);
            } else if (mode.equals("lease")) {
                ledger.settle(ledger.reserve(key, day, amount, budget), amount);
                System.out.println("leased");
                System.out.flush();
                for (int i = 0; i < 60_000 / 5; i++) {
                    if (n == 1) {
                        ledger.settle(ledger.reserve(key, day, amount, budget), 0);
                    }
                    Thread.sleep(5);
                }
            } else {
                ledger.settle(ledger.reserve(key, day, amount, budget), amount);
                List<Reservation> held = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    held.add(ledger.reserve(key, day, amount, budget));
                }
                System.out.println(
                        "holding " + held.stream().filter(Reservation::granted).count());
                System.out.flush();
                Thread.sleep(60_000);
            }
        }
    }

    /** Asks {@code n} times for one request of {@code tokens} at {@code now}; how many were granted. */
    static long rates(RateWindows windows, String key, long now, int rpm, long tokens, long tpm, int n) {
        long granted = 0;
        for (int i = 0; i < n; i++) {
            if (windows.tryAcquire(key, now, rpm, tokens, tpm) == 0) {
                granted++;
            }
        }
        return granted;
    }

    static long race(BudgetLedger ledger, String key, LocalDate day, long amount, long budget, int n) {
        long granted = 0;
        for (int i = 0; i < n; i++) {
            Reservation r = ledger.reserve(key, day, amount, budget);
            if (r.granted()) {
                granted += amount;
                ledger.settle(r, amount);
            }
        }
        return granted;
    }
}
