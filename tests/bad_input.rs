//! Walks the C table of `docs/bad-input.md`: every row becomes a statement of
//! a generated C program that checks the status (or value) in its row, that
//! the last error message names the argument, and that no output changed.

mod common;

use common::{build, have, program, report, root, run};

struct Row {
    call: String,
    argument: String,
    result: String,
}

fn rows() -> Vec<Row> {
    let doc = std::fs::read_to_string(root().join("docs/bad-input.md")).unwrap();
    let c_section = doc.split("## C ABI").nth(1).unwrap().split("## Python").next().unwrap();
    c_section
        .lines()
        .filter(|l| l.starts_with("| `pi_"))
        .map(|l| {
            let cells: Vec<&str> = l
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            assert_eq!(cells.len(), 3, "row {l}");
            Row {
                call: cells[0].into(),
                argument: cells[1].into(),
                result: cells[2].into(),
            }
        })
        .collect()
}

fn program_text(rows: &[Row]) -> String {
    let mut c = String::from(
        r#"#include "pi.h"
#include <stdio.h>
#include <string.h>
static int failures = 0;
static int32_t stop_now(void *user_data, uint64_t done, uint64_t total) {
    (void)user_data; (void)done; (void)total;
    return 1;
}
static void check(int ok, const char *call, const char *what) {
    if (!ok) { fprintf(stderr, "FAILED %s: %s\n", call, what); failures++; }
}
int main(void) {
    pi_engine *engine = NULL, *e2;
    pi_engine *const marker = (pi_engine *)&failures;
    uint64_t hits, out[4];
    char buf[64], msg[512];
    long long got;
    int i;
    uint64_t *const misaligned = (uint64_t *)(void *)((char *)out + 1);
    pi_engine *freed = NULL;
    if (pi_engine_new(PI_BACKEND_CPU, 1, &engine) != PI_OK) return 2;
    if (pi_engine_new(PI_BACKEND_CPU, 1, &freed) != PI_OK) return 2;
    pi_engine_free(freed);
    (void)e2; (void)buf; (void)misaligned;
"#,
    );
    for (k, row) in rows.iter().enumerate() {
        let call = row.call.replace('"', "\\\"");
        let error = row.result.starts_with("PI_ERROR");
        c.push_str(&format!(
            r#"
    /* row {k} */
    hits = 777; for (i = 0; i < 4; i++) out[i] = 777; e2 = marker; msg[0] = 0;
    got = (long long)({call_raw});
    check(got == (long long)({result}), "{call}", "result is not {result}");
    check(hits == 777 || {ok}, "{call}", "hits written");
    for (i = 0; i < 4; i++) check(out[i] == 777 || {ok}, "{call}", "out written");
    check(e2 == marker, "{call}", "engine_out written");
    if ({error}) {{
        pi_last_error_message(msg, sizeof msg);
        check(strstr(msg, "{argument}") != NULL, "{call}", "message does not name {argument}");
    }}
"#,
            call_raw = row.call,
            result = row.result,
            ok = i32::from(row.result == "PI_OK"),
            argument = row.argument,
            error = i32::from(error),
        ));
    }
    c.push_str(
        r#"
    pi_engine_free(engine);
    printf("%d rows, %d failures\n", ROWS, failures);
    return failures != 0;
}
"#,
    );
    c.replace("ROWS", &rows.len().to_string())
}

#[test]
fn every_c_row_of_the_bad_input_table() {
    let rows = rows();
    assert!(rows.len() >= 20, "only {} C rows", rows.len());
    if !have("cc") {
        return;
    }
    let source = common::work_dir("bad_input").join("bad_input.c");
    std::fs::write(&source, program_text(&rows)).unwrap();
    let exe = build(
        "cc",
        &["-std=c99", "-Wall", "-Werror"],
        &[source.to_str().unwrap()],
        "bad_input",
    );
    // CPU engines only: no GPU driver needs to load.
    let text = run(program(&exe).envs(common::HIDDEN_GPU));
    assert!(text.contains(&format!("{} rows, 0 failures", rows.len())), "{text}");
    report(&format!(
        "bad input: {} C rows of docs/bad-input.md, 0 failures",
        rows.len()
    ));
}
