/**
 * The JDBC backend: {@link io.dlm4j.jdbc.JdbcDlm} keeps locks in a table of PostgreSQL 12+,
 * MariaDB 10.6+ or H2 2.x, one row per key, each decision one atomic statement judged by the
 * database's clock, with fencing tokens from a sequence. {@code Dlms.fromUri} takes JDBC URLs
 * through {@link io.dlm4j.jdbc.JdbcDlmProvider}. The contract of every Dlm is in {@link io.dlm4j};
 * the table, the statements and the guarantees of this one are in docs/JDBC.md.
 */
package io.dlm4j.jdbc;
