package dev.ferry;

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st: positions in a line, the way people say them. */
public final class Ordinals {

    private Ordinals() {}

    public static String of(int n) {
        int mod100 = n % 100;
        String suffix = (mod100 >= 11 && mod100 <= 13)
                ? "th"
                : switch (n % 10) {
                    case 1 -> "st";
                    case 2 -> "nd";
                    case 3 -> "rd";
                    default -> "th";
                };
        return n + suffix;
    }
}
