//! The spec's flags of `pyfreeze freeze`, `list` and `spec`, derived from the option
//! declarations of `pyfreeze_gen::spec` (one clap argument per option), so a new option
//! gets its flag without an edit here.

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use pyfreeze_gen::spec::{doc_line, Card, OptionInfo, OPTIONS};
use pyfreeze_gen::{Source, SpecBuilder};

/// What the flags give, as a spec source relative to the current folder.
#[derive(Debug, Clone)]
pub struct SpecFlags(pub SpecBuilder);

/// The help of an option's flag: the declaration's doc line without Markdown, what a switch
/// does, the default.
fn help(o: &OptionInfo) -> String {
    let doc = doc_line(o).replace('`', "");
    match (o.switch_sets, o.card) {
        (Some(false), _) => {
            let mut chars = doc.chars();
            let first = chars.next().map(|c| c.to_lowercase().to_string());
            format!(
                "Turns off (on by default): {}{}",
                first.unwrap_or_default(),
                chars.as_str()
            )
        }
        (None, Card::One) => format!("{doc} [default: {}]", o.default),
        _ => doc,
    }
}

fn arg(o: &'static OptionInfo) -> Arg {
    let mut arg = Arg::new(o.field).long(o.flag).help(help(o));
    if let Some(c) = o.short {
        arg = arg.short(c);
    }
    let field = o.field;
    // The kind's own parser, so a bad value is reported by clap, naming the flag.
    let parse = move |text: &str| -> Result<String, String> {
        SpecBuilder::new().set_text(field, text)?;
        Ok(text.to_string())
    };
    match (o.switch_sets, o.card) {
        (Some(_), _) => arg.action(ArgAction::SetTrue),
        (None, Card::Many) => arg
            .action(ArgAction::Append)
            .value_name(o.value_name)
            .value_parser(parse),
        (None, _) => arg
            .action(ArgAction::Set)
            .value_name(o.value_name)
            .value_parser(parse),
    }
}

impl Args for SpecFlags {
    fn augment_args(cmd: Command) -> Command {
        OPTIONS.iter().fold(cmd, |cmd, o| cmd.arg(arg(o)))
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SpecFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        // Relative paths on the command line are relative to the current folder; made
        // absolute here, so `pyfreeze spec` prints a file that works from anywhere.
        let cwd = std::env::current_dir().map_err(|e| {
            clap::Error::raw(
                clap::error::ErrorKind::Io,
                format!("cannot read the current folder: {e}\n"),
            )
        })?;
        let mut layer = SpecBuilder::with_source(Source::Flags, cwd);
        for o in OPTIONS {
            let texts: Vec<String> = match o.switch_sets {
                Some(sets) if matches.get_flag(o.field) => vec![sets.to_string()],
                Some(_) => Vec::new(),
                None => matches
                    .get_many::<String>(o.field)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
            };
            for text in texts {
                layer
                    .set_text(o.field, &text)
                    .expect("checked by the argument's value parser");
            }
        }
        Ok(SpecFlags(layer))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The flags that give what `layer` gives (the inverse of parsing them).
    fn to_args(layer: &SpecBuilder) -> Vec<String> {
        let mut args = Vec::new();
        for (field, texts) in layer.texts() {
            let o = OPTIONS
                .iter()
                .find(|o| o.field == field)
                .expect("texts() names declared fields");
            for text in texts {
                match o.switch_sets {
                    Some(sets) if text == sets.to_string() => args.push(format!("--{}", o.flag)),
                    // A switch at its default: no flag says that.
                    Some(_) => {}
                    None => args.extend([format!("--{}", o.flag), text]),
                }
            }
        }
        args
    }

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: SpecFlags,
    }

    fn examples() -> SpecBuilder {
        let mut layer = SpecBuilder::with_source(Source::Flags, std::env::current_dir().unwrap());
        for o in OPTIONS {
            layer.set_text(o.field, o.example).unwrap();
        }
        layer
    }

    #[test]
    fn every_option_round_trips_through_the_flags() {
        let layer = examples();
        let args = to_args(&layer);
        let parsed = Cli::try_parse_from(std::iter::once("pyfreeze".to_string()).chain(args))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.flags.0, layer);
        for o in OPTIONS {
            assert!(
                to_args(&layer).contains(&format!("--{}", o.flag)),
                "--{} is not written back",
                o.flag
            );
        }
    }

    #[test]
    fn a_bad_value_names_the_flag() {
        let e = Cli::try_parse_from(["pyfreeze", "--optimize", "x"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("invalid value 'x' for '--optimize <0|1|2>': must be 0, 1 or 2, not `x`"),
            "{e}"
        );
    }

    #[test]
    fn switches_that_turn_something_off_are_named_no() {
        for o in OPTIONS {
            match o.switch_sets {
                Some(false) => assert!(o.flag.starts_with("no-"), "--{}", o.flag),
                Some(true) => assert!(!o.flag.starts_with("no-"), "--{}", o.flag),
                None => {}
            }
        }
    }
}
