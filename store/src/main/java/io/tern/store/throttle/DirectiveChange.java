package io.tern.store.throttle;

/** One audit-log entry: which version, when, by whom, and the directive it installed. */
public record DirectiveChange(long version, long atMillis, String by, ThrottleDirective directive) {
}
