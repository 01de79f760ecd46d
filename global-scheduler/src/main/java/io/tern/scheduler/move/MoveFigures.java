package io.tern.scheduler.move;

/**
 * How far a move has come, as seen from the last broker reports.
 *
 * @param left                 covered devices still on the brokers they are leaving
 * @param moved                covered devices gone since the move's first count ({@code coveredAtStart - left}, at least 0)
 * @param currentRatePerSecond observed decrease of {@code left} per second over the stats window
 */
public record MoveFigures(long left, long moved, double currentRatePerSecond) {
}
