//! The interpreter: a recursive-descent parser that executes as it reads. The same code
//! checks a text (`run` false: nothing is evaluated or accessed) and runs it; a `while`
//! loop goes back to its condition's offset, a body that is not taken is read in check
//! mode to find its end.

use crate::lexer::{self, Binary, LexError, Symbol, Token};
use crate::{
    Context, Debugvar, Entry, Error, Fault, Location, MAX_ATOMIC_OPERATIONS, MAX_CALL_DEPTH,
    MAX_CONTROL_DEPTH, MAX_DEBUGVARS, MAX_EXPRESSION_DEPTH, MAX_SEQUENCES,
    MAX_UNTIMED_WHILE_MICROS, MAX_VARIABLES, MessageKind, Operation, Sequences, Target, Width,
};
use core::convert::Infallible;
use core::fmt::Write;

/// Wait between the checks of a `while` whose condition and body took no time on the
/// target's clock (a plain wait such as `while="1" timeout="50000"`).
const IDLE_POLL_MICROS: u32 = 100;

/// What the statements being read may do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// A sequence's body.
    Sequence,
    /// `debugvars { __var name = constant; }`.
    Debugvars,
    /// A user's overrides: `name = constant;` of declared debugvars.
    Overrides,
}

/// One argument kind of a function.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parameter {
    Number,
    Text,
}

use Parameter::{Number as N, Text as T};

/// The spec's debug access functions ("DebugFunctions") and their parameters; `Message`
/// takes any number of values after its format.
const FUNCTIONS: &[(&str, &[Parameter])] = &[
    ("Sequence", &[T]),
    ("Read8", &[N]),
    ("Read16", &[N]),
    ("Read32", &[N]),
    ("Read64", &[N]),
    ("Write8", &[N, N]),
    ("Write16", &[N, N]),
    ("Write32", &[N, N]),
    ("Write64", &[N, N]),
    ("ReadAP", &[N]),
    ("WriteAP", &[N, N]),
    ("ReadDP", &[N]),
    ("WriteDP", &[N, N]),
    ("ReadAccessAP", &[N]),
    ("WriteAccessAP", &[N, N]),
    ("DAP_Delay", &[N]),
    ("DAP_WriteABORT", &[N]),
    ("DAP_SWJ_Pins", &[N, N, N]),
    ("DAP_SWJ_Clock", &[N]),
    ("DAP_SWJ_Sequence", &[N, N]),
    ("DAP_JTAG_Sequence", &[N, N, N]),
    ("Query", &[N, T, N]),
    ("QueryValue", &[T, N]),
    ("Message", &[N, T]),
    ("LoadDebugInfo", &[T]),
];

/// The functions whose value comes from the target (what an atomic block may not use
/// before it ends).
const READING: &[&str] = &[
    "Read8",
    "Read16",
    "Read32",
    "Read64",
    "ReadAP",
    "ReadDP",
    "ReadAccessAP",
    "DAP_SWJ_Pins",
    "DAP_JTAG_Sequence",
];

/// The functions that are not target accesses (the rest go into an atomic block's batch).
const NOT_ACCESSES: &[&str] = &[
    "Sequence",
    "Query",
    "QueryValue",
    "Message",
    "LoadDebugInfo",
];

/// Variables one atomic block may assign a read value to.
const MAX_ATOMIC_RESULTS: usize = 16;

/// How accesses are made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// One at a time, as the statements are read.
    Direct,
    /// An atomic block's first reading: accesses are collected, none made; values 0.
    Collect,
    /// Its second reading, after the batch: accesses give the batch's results.
    Replay,
}

/// Where an access of an atomic block's batch was written, for its errors.
#[derive(Clone, Copy)]
struct Site {
    at: usize,
    function: &'static str,
    /// `__errorcontrol` bit 0 when it was collected.
    go_on: bool,
}

/// An atomic block being run: its accesses, their results, the first that failed.
struct Batch {
    phase: Phase,
    operations: heapless::Vec<Operation, MAX_ATOMIC_OPERATIONS>,
    sites: heapless::Vec<Site, MAX_ATOMIC_OPERATIONS>,
    results: [u64; MAX_ATOMIC_OPERATIONS],
    failed: Option<usize>,
    replayed: usize,
}

/// What the text check tracks inside an atomic block: reading functions met so far, the
/// variables a read value went to, accesses counted.
#[derive(Default)]
struct AtomicCheck<'s> {
    inside: bool,
    reads: u32,
    pending: heapless::Vec<&'s str, MAX_ATOMIC_RESULTS>,
    operations: usize,
}

/// Arguments of one call: the values and the string, if any.
#[derive(Default)]
struct Arguments<'s> {
    values: heapless::Vec<u64, 16>,
    text: &'s str,
}

/// A target for checking texts: never called (nothing runs in check mode, and debugvars
/// take no functions).
struct NoTarget;

impl Target for NoTarget {
    type Error = Infallible;
    fn read_memory(&mut self, _: u8, _: u64, _: Width) -> Result<u64, Infallible> {
        Ok(0)
    }
    fn write_memory(&mut self, _: u8, _: u64, _: Width, _: u64) -> Result<(), Infallible> {
        Ok(())
    }
    fn read_ap(&mut self, _: u8, _: u8) -> Result<u32, Infallible> {
        Ok(0)
    }
    fn write_ap(&mut self, _: u8, _: u8, _: u32) -> Result<(), Infallible> {
        Ok(())
    }
    fn read_dp(&mut self, _: u8) -> Result<u32, Infallible> {
        Ok(0)
    }
    fn write_dp(&mut self, _: u8, _: u32) -> Result<(), Infallible> {
        Ok(())
    }
    fn read_access_ap(&mut self, _: u8, _: u64) -> Result<u32, Infallible> {
        Ok(0)
    }
    fn write_access_ap(&mut self, _: u8, _: u64, _: u32) -> Result<(), Infallible> {
        Ok(())
    }
    fn swj_pins(&mut self, _: u8, _: u8, _: u32) -> Result<u32, Infallible> {
        Ok(0)
    }
    fn swj_clock(&mut self, _: u32) -> Result<(), Infallible> {
        Ok(())
    }
    fn swj_sequence(&mut self, _: u8, _: u64) -> Result<(), Infallible> {
        Ok(())
    }
    fn jtag_sequence(&mut self, _: u8, _: bool, _: u64) -> Result<u64, Infallible> {
        Ok(0)
    }
    fn write_abort(&mut self, _: u32) -> Result<(), Infallible> {
        Ok(())
    }
    fn delay_micros(&mut self, _: u32) {}
    fn now_micros(&mut self) -> u64 {
        0
    }
    fn message(&mut self, _: MessageKind, _: &str) {}
}

struct Machine<'s, 'x, X: Target> {
    /// The text being read (the description's, the standard sequences', overrides).
    text: &'s str,
    /// Where the next token is read from (white space may come first).
    offset: usize,
    /// Evaluate and act (false: only check).
    run: bool,
    section: Section,
    target: &'x mut X,
    /// The description, for `Sequence()` calls (None while loading it).
    sequences: Option<&'s Sequences>,
    processor: &'s str,
    context: Context,
    error_control: u64,
    result: u64,
    debugvars: heapless::Vec<(&'s str, u64), MAX_DEBUGVARS>,
    variables: heapless::Vec<(&'s str, u64), MAX_VARIABLES>,
    /// The running sequence's first variable, and the current scope's.
    frame: usize,
    scope: usize,
    sequence: &'s str,
    control_depth: usize,
    call_depth: usize,
    expression_depth: usize,
    batch: Batch,
    atomic: AtomicCheck<'s>,
}

type Outcome<T, E> = Result<T, Error<E>>;

impl<'s, 'x, X: Target> Machine<'s, 'x, X> {
    fn new(text: &'s str, target: &'x mut X, run: bool, section: Section) -> Self {
        Self {
            text,
            offset: 0,
            run,
            section,
            target,
            sequences: None,
            processor: "",
            context: Context::default(),
            error_control: 0,
            result: 0,
            debugvars: heapless::Vec::new(),
            variables: heapless::Vec::new(),
            frame: 0,
            scope: 0,
            sequence: "",
            control_depth: 0,
            call_depth: 0,
            expression_depth: 0,
            batch: Batch {
                phase: Phase::Direct,
                operations: heapless::Vec::new(),
                sites: heapless::Vec::new(),
                results: [0; MAX_ATOMIC_OPERATIONS],
                failed: None,
                replayed: 0,
            },
            atomic: AtomicCheck::default(),
        }
    }

    fn location(&self, offset: usize) -> Location {
        let (line, column) = lexer::line_column(self.text, offset);
        Location { line, column }
    }

    fn syntax<T>(&self, offset: usize, message: &'static str) -> Outcome<T, X::Error> {
        Err(Error::Syntax {
            at: self.location(offset),
            message,
            name: None,
        })
    }

    fn fault<T>(&self, offset: usize, fault: Fault<X::Error>) -> Outcome<T, X::Error> {
        Err(Error::Run {
            sequence: crate::name(self.sequence),
            at: self.location(offset),
            fault,
        })
    }

    fn lex_error(&self, error: LexError) -> Error<X::Error> {
        Error::Syntax {
            at: self.location(error.offset),
            message: error.message,
            name: None,
        }
    }

    /// The next token, where it starts and where it ends; not consumed.
    fn peek(&self) -> Outcome<(Token<'s>, usize, usize), X::Error> {
        let start = lexer::skip_space(self.text, self.offset).map_err(|e| self.lex_error(e))?;
        let (token, end) = lexer::token(self.text, start).map_err(|e| self.lex_error(e))?;
        Ok((token, start, end))
    }

    fn next(&mut self) -> Outcome<(Token<'s>, usize), X::Error> {
        let (token, start, end) = self.peek()?;
        self.offset = end;
        Ok((token, start))
    }

    fn expect(&mut self, symbol: Symbol, message: &'static str) -> Outcome<usize, X::Error> {
        match self.next()? {
            (Token::Symbol(found), start) if found == symbol => Ok(start),
            (_, start) => self.syntax(start, message),
        }
    }

    fn expect_name(&mut self, message: &'static str) -> Outcome<&'s str, X::Error> {
        match self.next()? {
            (Token::Name(name), _) => Ok(name),
            (_, start) => self.syntax(start, message),
        }
    }

    /// Consume `word` if it is the next token.
    fn keyword(&mut self, word: &str) -> Outcome<bool, X::Error> {
        let (token, _, end) = self.peek()?;
        if token == Token::Name(word) {
            self.offset = end;
            return Ok(true);
        }
        Ok(false)
    }

    fn is_next(&self, symbol: Symbol) -> Outcome<bool, X::Error> {
        Ok(self.peek()?.0 == Token::Symbol(symbol))
    }

    /// Read with `run` as given (false: check only), then back to what it was.
    fn with_run<T>(
        &mut self,
        run: bool,
        work: impl FnOnce(&mut Self) -> Outcome<T, X::Error>,
    ) -> Outcome<T, X::Error> {
        let saved = self.run;
        self.run = saved && run;
        let outcome = work(self);
        self.run = saved;
        outcome
    }

    // ---- structure: sequence and control bodies, blocks ----

    /// The items of a sequence or control body up to and including its `}`.
    fn body(&mut self) -> Outcome<(), X::Error> {
        loop {
            match self.next()? {
                (Token::Symbol(Symbol::CloseBrace), _) => return Ok(()),
                (Token::Name("block"), _) => self.block()?,
                (Token::Name("control"), start) => self.control(start)?,
                (_, start) => {
                    return self.syntax(start, "expected block, control or } in a body");
                }
            }
        }
    }

    /// `block [atomic] { statement* }`, after `block`. A block opens no scope.
    fn block(&mut self) -> Outcome<(), X::Error> {
        let atomic = self.keyword("atomic")?;
        self.expect(Symbol::OpenBrace, "expected { after block")?;
        if !atomic {
            return self.statements();
        }
        let body_at = self.offset;
        self.atomic = AtomicCheck {
            inside: true,
            ..AtomicCheck::default()
        };
        let outcome = if self.run {
            self.atomic_block(body_at)
        } else {
            self.statements()
        };
        self.atomic = AtomicCheck::default();
        outcome
    }

    /// Statements up to and including the block's `}`.
    fn statements(&mut self) -> Outcome<(), X::Error> {
        while !self.is_next(Symbol::CloseBrace)? {
            self.statement()?;
        }
        self.next()?;
        Ok(())
    }

    /// An atomic block's body (at `body_at`): its accesses collected, made as one batch,
    /// then the statements read again with their results (pdsc schema, "block").
    fn atomic_block(&mut self, body_at: usize) -> Outcome<(), X::Error> {
        // The state the second reading starts from (names do not change, only values).
        let live = self.variables.len();
        let mut values = [0; MAX_VARIABLES];
        for (value, (_, kept)) in values.iter_mut().zip(self.variables.iter()) {
            *value = *kept;
        }
        let saved = (self.context, self.error_control, self.result);
        self.batch.operations.clear();
        self.batch.sites.clear();
        self.batch.failed = None;
        self.batch.phase = Phase::Collect;
        let collected = self.statements();
        self.batch.phase = Phase::Direct;
        collected?;
        let count = self.batch.operations.len();
        let Batch {
            operations,
            results,
            ..
        } = &mut self.batch;
        if let Err((index, cause)) = self.target.batch(operations, &mut results[..count]) {
            let site = self.batch.sites[index];
            if !site.go_on {
                let function = site.function;
                return self.fault(site.at, Fault::Access { function, cause });
            }
            self.batch.failed = Some(index);
        }
        self.variables.truncate(live);
        for ((_, value), kept) in self.variables.iter_mut().zip(values) {
            *value = kept;
        }
        (self.context, self.error_control, self.result) = saved;
        self.atomic.reads = 0;
        self.atomic.pending.clear();
        self.atomic.operations = 0;
        self.offset = body_at;
        self.batch.replayed = 0;
        self.batch.phase = Phase::Replay;
        let replayed = self.statements();
        self.batch.phase = Phase::Direct;
        replayed
    }

    /// In an atomic block, no reading function may have run since `reads` (its value
    /// would decide something before the batch is made).
    fn not_read_since(&self, reads: u32, at: usize) -> Outcome<(), X::Error> {
        if self.atomic.inside && self.atomic.reads != reads {
            return self.syntax(at, "a value read in an atomic block is used in it");
        }
        Ok(())
    }

    /// In an atomic block, `name` gets a value read in it when a reading function ran
    /// since `reads`.
    fn note_assignment(&mut self, at: usize, name: &'s str, reads: u32) -> Outcome<(), X::Error> {
        if !self.atomic.inside || self.atomic.reads == reads || self.atomic.pending.contains(&name)
        {
            return Ok(());
        }
        if self.atomic.pending.push(name).is_err() {
            return self.syntax(
                at,
                "an atomic block assigns read values to over 16 variables",
            );
        }
        Ok(())
    }

    /// `control [if (e)] [while (e)] [timeout (n)] { body }`, after `control`.
    fn control(&mut self, start: usize) -> Outcome<(), X::Error> {
        if self.control_depth >= MAX_CONTROL_DEPTH {
            return self.syntax(start, "control elements nested over 10 deep");
        }
        let mut condition = true;
        if self.keyword("if")? {
            condition = self.parenthesised()? != 0;
        }
        let mut loop_at = None;
        if self.keyword("while")? {
            loop_at = Some(self.offset);
            self.with_run(false, |machine| machine.parenthesised())?;
        }
        let mut timeout = 0;
        if self.keyword("timeout")? {
            self.expect(Symbol::OpenParen, "expected ( after timeout")?;
            timeout = match self.next()? {
                (Token::Number(micros), _) => micros,
                (_, at) => return self.syntax(at, "timeout takes a number (microseconds)"),
            };
            self.expect(Symbol::CloseParen, "expected ) after the timeout")?;
        }
        self.expect(Symbol::OpenBrace, "expected { after control")?;
        let body_at = self.offset;
        self.control_depth += 1;
        let outcome = match loop_at {
            Some(loop_at) if self.run && condition => self.repeat(start, loop_at, body_at, timeout),
            None if self.run && condition => self.scoped_body(),
            _ => Ok(()),
        };
        self.control_depth -= 1;
        outcome?;
        // Read the body once more without running it: its end is where reading goes on
        // (and in check mode this is the check).
        self.offset = body_at;
        self.control_depth += 1;
        let checked = self.with_run(false, |machine| machine.body());
        self.control_depth -= 1;
        checked
    }

    /// `( expression )`.
    fn parenthesised(&mut self) -> Outcome<u64, X::Error> {
        self.expect(Symbol::OpenParen, "expected (")?;
        let value = self.expression()?;
        self.expect(Symbol::CloseParen, "expected )")?;
        Ok(value)
    }

    /// A body in a scope of its own.
    fn scoped_body(&mut self) -> Outcome<(), X::Error> {
        let outer = self.scope;
        self.scope = self.variables.len();
        let outcome = self.body();
        self.variables.truncate(self.scope);
        self.scope = outer;
        outcome
    }

    /// A `while`: check the condition, run the body, until the condition is false or the
    /// timeout has passed (the body in progress finishes and the condition is checked once
    /// more, spec "control"). Reaching the timeout is not an error (the spec's words); a
    /// loop with no timeout is stopped after MAX_UNTIMED_WHILE_MICROS.
    fn repeat(
        &mut self,
        start: usize,
        loop_at: usize,
        body_at: usize,
        timeout: u64,
    ) -> Outcome<(), X::Error> {
        let started = self.target.now_micros();
        loop {
            let before = self.target.now_micros();
            self.offset = loop_at;
            if self.parenthesised()? == 0 {
                return Ok(());
            }
            let elapsed = self.target.now_micros().saturating_sub(started);
            if timeout != 0 && elapsed >= timeout {
                let mut text = heapless::String::<128>::new();
                let at = self.location(start);
                let _ = write!(
                    text,
                    "sequence {} line {}: while loop timed out after {} us",
                    self.sequence, at.line, timeout
                );
                self.target.message(MessageKind::Warning, &text);
                return Ok(());
            }
            if timeout == 0 && elapsed >= MAX_UNTIMED_WHILE_MICROS {
                return self.fault(start, Fault::WhileNeverEnds { micros: elapsed });
            }
            self.offset = body_at;
            self.scoped_body()?;
            if self.target.now_micros() == before {
                self.target.delay_micros(IDLE_POLL_MICROS);
            }
        }
    }

    // ---- statements ----

    /// `__var name = e;`, `name op= e;` or `e;`.
    fn statement(&mut self) -> Outcome<(), X::Error> {
        let (token, start, end) = self.peek()?;
        if token == Token::Name("__var") {
            self.offset = end;
            if self.section == Section::Overrides {
                return self.syntax(start, "overrides assign declared debugvars (no __var)");
            }
            let name = self.expect_name("expected a name after __var")?;
            if name.starts_with("__") && self.section == Section::Debugvars {
                return self.syntax(start, "debugvar names may not start with __");
            }
            self.expect(Symbol::Assign(None), "expected = after __var name")?;
            let reads = self.atomic.reads;
            let value = self.expression()?;
            self.expect(Symbol::Semicolon, "expected ; after the statement")?;
            self.note_assignment(start, name, reads)?;
            return self.declare(start, name, value);
        }
        if let Token::Name(name) = token {
            let after = lexer::skip_space(self.text, end).map_err(|e| self.lex_error(e))?;
            let (next, past) = lexer::token(self.text, after).map_err(|e| self.lex_error(e))?;
            if let Token::Symbol(Symbol::Assign(operator)) = next {
                if operator.is_some() && self.atomic.pending.contains(&name) {
                    return self.syntax(start, "a value read in an atomic block is used in it");
                }
                self.offset = past;
                let reads = self.atomic.reads;
                let value = self.expression()?;
                self.expect(Symbol::Semicolon, "expected ; after the statement")?;
                self.note_assignment(start, name, reads)?;
                return self.assign(start, name, operator, value);
            }
        }
        if self.section != Section::Sequence {
            return self.syntax(start, "debugvars hold only __var name = value;");
        }
        self.expression()?;
        self.expect(Symbol::Semicolon, "expected ; after the statement")?;
        Ok(())
    }

    fn declare(&mut self, at: usize, name: &'s str, value: u64) -> Outcome<(), X::Error> {
        if self.section == Section::Debugvars {
            if self.debugvars.iter().any(|&(known, _)| known == name) {
                return self.fault(at, Fault::Redeclared(crate::name(name)));
            }
            return match self.debugvars.push((name, value)) {
                Ok(()) => Ok(()),
                Err(_) => Err(Error::TooLarge("over 32 debugvars")),
            };
        }
        if !self.run {
            return Ok(());
        }
        if self.variables[self.scope..]
            .iter()
            .any(|&(known, _)| known == name)
        {
            return self.fault(at, Fault::Redeclared(crate::name(name)));
        }
        if self.variables.push((name, value)).is_err() {
            return self.fault(at, Fault::TooManyVariables);
        }
        Ok(())
    }

    fn assign(
        &mut self,
        at: usize,
        name: &'s str,
        operator: Option<Binary>,
        value: u64,
    ) -> Outcome<(), X::Error> {
        if self.section == Section::Debugvars {
            return self.syntax(at, "debugvars hold only __var name = value;");
        }
        if !self.run {
            return Ok(());
        }
        let value = match operator {
            Some(operator) => {
                let old = self.variable(at, name)?;
                self.apply(at, operator, old, value)?
            }
            None => value,
        };
        if self.section == Section::Overrides {
            return match self.debugvars.iter_mut().find(|(known, _)| *known == name) {
                Some(slot) => {
                    slot.1 = value;
                    Ok(())
                }
                None => Err(Error::NoSuchDebugvar(crate::name(name))),
            };
        }
        let frame = self.frame;
        if let Some(slot) = self.variables[frame..]
            .iter_mut()
            .rev()
            .find(|(known, _)| *known == name)
        {
            slot.1 = value;
            return Ok(());
        }
        match name {
            "__dp" => self.context.dp = value,
            "__ap" => self.context.ap = value,
            "__apid" => self.context.apid = value,
            "__errorcontrol" => self.error_control = value,
            "__Result" => self.result = value,
            _ if self.debugvars.iter().any(|&(known, _)| known == name)
                || predefined(&self.context, name).is_some() =>
            {
                return self.fault(at, Fault::ReadOnly(crate::name(name)));
            }
            _ => return self.fault(at, Fault::UnknownVariable(crate::name(name))),
        }
        Ok(())
    }

    /// A variable's value: the sequence's own (innermost first), a debugvar, a predefined.
    fn variable(&self, at: usize, name: &str) -> Outcome<u64, X::Error> {
        let own = self.variables[self.frame..]
            .iter()
            .rev()
            .chain(self.debugvars.iter().rev())
            .find(|(known, _)| *known == name)
            .map(|&(_, value)| value);
        let special = match name {
            "__errorcontrol" => Some(self.error_control),
            "__Result" => Some(self.result),
            _ => predefined(&self.context, name),
        };
        match own.or(special) {
            Some(value) => Ok(value),
            None => self.fault(at, Fault::UnknownVariable(crate::name(name))),
        }
    }

    // ---- expressions (C's precedence; spec "ExpressionType") ----

    fn expression(&mut self) -> Outcome<u64, X::Error> {
        let (_, start, _) = self.peek()?;
        if self.expression_depth >= MAX_EXPRESSION_DEPTH {
            return self.syntax(start, "expression nested too deep");
        }
        self.expression_depth += 1;
        let value = self.conditional();
        self.expression_depth -= 1;
        value
    }

    fn conditional(&mut self) -> Outcome<u64, X::Error> {
        let reads = self.atomic.reads;
        let condition = self.logical_or()?;
        if !self.is_next(Symbol::Question)? {
            return Ok(condition);
        }
        let (_, at) = self.next()?;
        self.not_read_since(reads, at)?;
        let chosen = condition != 0;
        let yes = self.with_run(chosen, |machine| machine.expression())?;
        self.expect(Symbol::Colon, "expected : in ?:")?;
        let no = self.with_run(!chosen, |machine| machine.expression())?;
        Ok(if chosen { yes } else { no })
    }

    fn logical_or(&mut self) -> Outcome<u64, X::Error> {
        let reads = self.atomic.reads;
        let mut value = self.logical_and()?;
        while self.is_next(Symbol::OrOr)? {
            let (_, at) = self.next()?;
            self.not_read_since(reads, at)?;
            let right = self.with_run(value == 0, |machine| machine.logical_and())?;
            value = u64::from(value != 0 || right != 0);
        }
        Ok(value)
    }

    fn logical_and(&mut self) -> Outcome<u64, X::Error> {
        let reads = self.atomic.reads;
        let mut value = self.binary(0)?;
        while self.is_next(Symbol::AndAnd)? {
            let (_, at) = self.next()?;
            self.not_read_since(reads, at)?;
            let right = self.with_run(value != 0, |machine| machine.binary(0))?;
            value = u64::from(value != 0 && right != 0);
        }
        Ok(value)
    }

    /// Operators of precedence `minimum` and above, left to right.
    fn binary(&mut self, minimum: u8) -> Outcome<u64, X::Error> {
        let mut left = self.unary()?;
        loop {
            let (token, start, end) = self.peek()?;
            let Token::Symbol(Symbol::Binary(operator)) = token else {
                return Ok(left);
            };
            if operator.precedence() < minimum {
                return Ok(left);
            }
            self.offset = end;
            let right = self.binary(operator.precedence() + 1)?;
            left = self.apply(start, operator, left, right)?;
        }
    }

    fn apply(&self, at: usize, operator: Binary, left: u64, right: u64) -> Outcome<u64, X::Error> {
        if !self.run {
            return Ok(0);
        }
        let shift = |value: u64, left_shift: bool| match u32::try_from(right) {
            Ok(amount) if amount < 64 => {
                if left_shift {
                    value << amount
                } else {
                    value >> amount
                }
            }
            _ => 0,
        };
        Ok(match operator {
            Binary::Multiply => left.wrapping_mul(right),
            Binary::Divide | Binary::Remainder if right == 0 => {
                return self.fault(at, Fault::DivideByZero);
            }
            Binary::Divide => left / right,
            Binary::Remainder => left % right,
            Binary::Add => left.wrapping_add(right),
            Binary::Subtract => left.wrapping_sub(right),
            Binary::ShiftLeft => shift(left, true),
            Binary::ShiftRight => shift(left, false),
            Binary::Less => u64::from(left < right),
            Binary::LessEqual => u64::from(left <= right),
            Binary::Greater => u64::from(left > right),
            Binary::GreaterEqual => u64::from(left >= right),
            Binary::Equal => u64::from(left == right),
            Binary::NotEqual => u64::from(left != right),
            Binary::And => left & right,
            Binary::Xor => left ^ right,
            Binary::Or => left | right,
        })
    }

    fn unary(&mut self) -> Outcome<u64, X::Error> {
        let (token, start, end) = self.peek()?;
        let operator = match token {
            Token::Symbol(Symbol::Not) => Some(Symbol::Not),
            Token::Symbol(Symbol::Tilde) => Some(Symbol::Tilde),
            Token::Symbol(Symbol::Binary(Binary::Subtract)) => {
                Some(Symbol::Binary(Binary::Subtract))
            }
            Token::Symbol(Symbol::Binary(Binary::Add)) => Some(Symbol::Binary(Binary::Add)),
            _ => None,
        };
        let Some(operator) = operator else {
            return self.primary();
        };
        self.offset = end;
        if self.expression_depth >= MAX_EXPRESSION_DEPTH {
            return self.syntax(start, "expression nested too deep");
        }
        self.expression_depth += 1;
        let value = self.unary();
        self.expression_depth -= 1;
        let value = value?;
        Ok(match operator {
            Symbol::Not => u64::from(value == 0),
            Symbol::Tilde => !value,
            Symbol::Binary(Binary::Subtract) => value.wrapping_neg(),
            _ => value,
        })
    }

    fn primary(&mut self) -> Outcome<u64, X::Error> {
        let (token, start) = self.next()?;
        match token {
            Token::Number(value) => Ok(value),
            Token::Symbol(Symbol::OpenParen) => {
                let value = self.expression()?;
                self.expect(Symbol::CloseParen, "expected )")?;
                Ok(value)
            }
            Token::Name(name) if self.is_next(Symbol::OpenParen)? => self.call(start, name),
            Token::Name(name) if self.atomic.pending.contains(&name) => {
                self.syntax(start, "a value read in an atomic block is used in it")
            }
            Token::Name(name) if self.run => self.variable(start, name),
            Token::Name(_) => Ok(0),
            Token::Text(_) => self.syntax(start, "a string only as a function's argument"),
            Token::End => self.syntax(start, "the text ends inside an expression"),
            Token::Symbol(_) => self.syntax(start, "expected a value"),
        }
    }

    // ---- functions (spec "DebugFunctions") ----

    fn call(&mut self, start: usize, name: &'s str) -> Outcome<u64, X::Error> {
        let Some(&(function, parameters)) = FUNCTIONS.iter().find(|(known, _)| *known == name)
        else {
            return Err(Error::Syntax {
                at: self.location(start),
                message: "unknown function",
                name: Some(crate::name(name)),
            });
        };
        if self.section != Section::Sequence {
            return self.syntax(start, "debugvars take constants, not functions");
        }
        if self.atomic.inside {
            if matches!(function, "Sequence" | "Query" | "QueryValue") {
                return self.syntax(
                    start,
                    "Sequence() and Query() may not be in an atomic block",
                );
            }
            if !NOT_ACCESSES.contains(&function) {
                self.atomic.operations += 1;
                if self.atomic.operations > MAX_ATOMIC_OPERATIONS {
                    return self.syntax(start, "an atomic block holds at most 32 accesses");
                }
            }
        }
        self.next()?; // (
        let mut arguments = Arguments::default();
        let mut index = 0;
        while !self.is_next(Symbol::CloseParen)? {
            if index > 0 {
                self.expect(Symbol::Comma, "expected , between arguments")?;
            }
            // Message's values after its format are numbers too.
            let kind = parameters.get(index).copied();
            match kind {
                Some(Parameter::Text) => match self.next()? {
                    (Token::Text(text), _) => arguments.text = text,
                    (_, at) => return self.syntax(at, "expected a string argument"),
                },
                None if name != "Message" => {
                    return self.syntax(start, "too many arguments");
                }
                _ => {
                    let (_, at, _) = self.peek()?;
                    let reads = self.atomic.reads;
                    let value = self.expression()?;
                    self.not_read_since(reads, at)?;
                    if arguments.values.push(value).is_err() {
                        return self.syntax(at, "too many arguments");
                    }
                }
            }
            index += 1;
        }
        self.next()?; // )
        if index < parameters.len() {
            return self.syntax(start, "too few arguments");
        }
        if READING.contains(&function) {
            self.atomic.reads += 1;
        }
        if !self.run {
            return Ok(0);
        }
        self.execute(start, function, &arguments)
    }

    /// A function whose arguments are checked and evaluated.
    fn execute(
        &mut self,
        at: usize,
        name: &'static str,
        arguments: &Arguments<'s>,
    ) -> Outcome<u64, X::Error> {
        let value = |index: usize| arguments.values.get(index).copied().unwrap_or(0);
        let ap = self.context.ap as u8;
        let register = |index: usize| value(index) as u8;
        let word = |index: usize| value(index) as u32;
        let memory = |width| Operation::ReadMemory {
            ap,
            address: value(0),
            width,
        };
        let store = |width| Operation::WriteMemory {
            ap,
            address: value(0),
            width,
            value: value(1),
        };
        // Messages are said once: not while an atomic block's accesses are collected.
        let quiet = self.batch.phase == Phase::Collect;
        let operation = match name {
            "Sequence" => return self.call_sequence(at, arguments.text).map(|()| 0),
            "Read8" => memory(Width::Byte),
            "Read16" => memory(Width::Half),
            "Read32" => memory(Width::Word),
            "Read64" => memory(Width::Double),
            "Write8" => store(Width::Byte),
            "Write16" => store(Width::Half),
            "Write32" => store(Width::Word),
            "Write64" => store(Width::Double),
            "ReadAP" => Operation::ReadAp {
                ap,
                register: register(0),
            },
            "WriteAP" => Operation::WriteAp {
                ap,
                register: register(0),
                value: word(1),
            },
            "ReadDP" => Operation::ReadDp {
                register: register(0),
            },
            "WriteDP" => Operation::WriteDp {
                register: register(0),
                value: word(1),
            },
            "ReadAccessAP" => Operation::ReadAccessAp {
                dp: self.context.dp as u8,
                address: value(0),
            },
            "WriteAccessAP" => Operation::WriteAccessAp {
                dp: self.context.dp as u8,
                address: value(0),
                value: word(1),
            },
            "DAP_Delay" => Operation::Delay {
                micros: value(0).min(u64::from(u32::MAX)) as u32,
            },
            "DAP_WriteABORT" => Operation::WriteAbort { value: word(0) },
            "DAP_SWJ_Pins" => Operation::SwjPins {
                output: register(0),
                select: register(1),
                wait_micros: value(2).min(3_000_000) as u32,
            },
            "DAP_SWJ_Clock" => Operation::SwjClock {
                hz: value(0).min(u64::from(u32::MAX)) as u32,
            },
            "DAP_SWJ_Sequence" => Operation::SwjSequence {
                count: self.bit_count(at, value(0))?,
                bits: value(1),
            },
            "DAP_JTAG_Sequence" => Operation::JtagSequence {
                count: self.bit_count(at, value(0))?,
                tms: value(1) & 1 != 0,
                tdi: value(2),
            },
            "Query" => {
                self.say(MessageKind::Info, arguments, "(answered with the default)");
                return Ok(value(1));
            }
            "QueryValue" => {
                self.say(MessageKind::Info, arguments, "(answered with the default)");
                return Ok(value(0));
            }
            "Message" if quiet => return Ok(0),
            "Message" => return self.message(at, arguments).map(|()| 0),
            "LoadDebugInfo" => {
                if !quiet {
                    self.say(
                        MessageKind::Info,
                        arguments,
                        ": LoadDebugInfo skipped (debug information is the debugger's)",
                    );
                }
                return Ok(0);
            }
            _ => unreachable!("FUNCTIONS and execute() list the same names"),
        };
        self.access(at, name, operation)
    }

    /// Make one access, or collect it for an atomic block's batch, or give its result
    /// from the batch.
    fn access(
        &mut self,
        at: usize,
        function: &'static str,
        operation: Operation,
    ) -> Outcome<u64, X::Error> {
        let go_on = self.error_control & 1 != 0;
        match self.batch.phase {
            Phase::Collect => {
                // The text check limits a block's accesses to the batch's room.
                let site = Site {
                    at,
                    function,
                    go_on,
                };
                if self.batch.operations.push(operation).is_err()
                    || self.batch.sites.push(site).is_err()
                {
                    return self.syntax(at, "an atomic block holds at most 32 accesses");
                }
                Ok(0)
            }
            Phase::Replay => {
                let index = self.batch.replayed;
                self.batch.replayed += 1;
                match self.batch.failed {
                    // The failed access and those after it (never made) give 0.
                    Some(failed) if index >= failed => {
                        self.result = u64::MAX;
                        Ok(0)
                    }
                    _ => Ok(self.batch.results.get(index).copied().unwrap_or(0)),
                }
            }
            Phase::Direct => match self.target.perform(&operation) {
                Ok(value) => Ok(value),
                // __errorcontrol bit 0: go on; the access gives 0 and __Result says -1.
                Err(_) if go_on => {
                    self.result = u64::MAX;
                    Ok(0)
                }
                Err(cause) => self.fault(at, Fault::Access { function, cause }),
            },
        }
    }

    fn bit_count(&self, at: usize, count: u64) -> Outcome<u8, X::Error> {
        match count {
            1..=64 => Ok(count as u8),
            _ => self.fault(at, Fault::BadArgument("a sequence takes 1 to 64 bits")),
        }
    }

    /// Query's and LoadDebugInfo's string, with a note, as information.
    fn say(&mut self, kind: MessageKind, arguments: &Arguments<'s>, note: &str) {
        let mut text = heapless::String::<128>::new();
        unescape(arguments.text, &mut text);
        let _ = text.push(' ');
        let _ = text.push_str(note);
        self.target.message(kind, &text);
    }

    /// `Message(type, "format", values...)`: type 2 is an error and stops the run.
    fn message(&mut self, at: usize, arguments: &Arguments<'s>) -> Outcome<(), X::Error> {
        let mut text = heapless::String::<128>::new();
        let kind = match arguments.values.first() {
            Some(1) => MessageKind::Warning,
            Some(2) => MessageKind::Error,
            _ => MessageKind::Info,
        };
        let mut format = heapless::String::<128>::new();
        unescape(arguments.text, &mut format);
        printf(
            &format,
            arguments.values.get(1..).unwrap_or_default(),
            &mut text,
        );
        self.target.message(kind, &text);
        if kind == MessageKind::Error {
            let mut kept = heapless::String::new();
            for character in text.chars() {
                if kept.push(character).is_err() {
                    break;
                }
            }
            return self.fault(at, Fault::Message(kept));
        }
        Ok(())
    }

    /// `Sequence("name")`: the description's, else the standard one, in a frame of its
    /// own; `__dp`, `__ap`, `__apid` and `__errorcontrol` are the caller's again after it.
    fn call_sequence(&mut self, at: usize, name: &'s str) -> Outcome<(), X::Error> {
        if self.call_depth >= MAX_CALL_DEPTH {
            return self.fault(at, Fault::CallsTooDeep);
        }
        let found = self
            .sequences
            .and_then(|sequences| {
                sequences
                    .find(name, self.processor)
                    .map(|body| (sequences.text(), body))
            })
            .or_else(|| find_standard(name).map(|body| (crate::STANDARD, body)));
        let Some((text, body)) = found else {
            return self.fault(at, Fault::UnknownSequence(crate::name(name)));
        };
        let saved = (
            self.text,
            self.offset,
            self.frame,
            self.scope,
            self.sequence,
            self.context,
            self.error_control,
        );
        self.text = text;
        self.offset = body;
        self.frame = self.variables.len();
        self.scope = self.frame;
        self.sequence = name;
        self.error_control = 0;
        self.call_depth += 1;
        let outcome = self.body();
        self.call_depth -= 1;
        self.variables.truncate(self.frame);
        (
            self.text,
            self.offset,
            self.frame,
            self.scope,
            self.sequence,
            self.context,
            self.error_control,
        ) = (
            saved.0,
            saved.1,
            saved.2,
            saved.3,
            saved.4,
            Context {
                protocol: self.context.protocol,
                ..saved.5
            },
            saved.6,
        );
        outcome
    }
}

/// The predefined read-only variables and `__dp`, `__ap`, `__apid`.
fn predefined(context: &Context, name: &str) -> Option<u64> {
    Some(match name {
        "__dp" => context.dp,
        "__ap" => context.ap,
        "__apid" => context.apid,
        "__protocol" => context.protocol,
        "__connection" => context.connection,
        "__traceout" => context.traceout,
        "__traceclockin" => context.traceclockin,
        "__traceclockout" => context.traceclockout,
        "__FlashOp" => context.flash.operation,
        "__FlashAddr" => context.flash.address,
        "__FlashLen" => context.flash.length,
        "__FlashArg" => context.flash.argument,
        _ => return None,
    })
}

/// A string literal's text with `\"`, `\\`, `\n`, `\t` turned into their characters.
fn unescape(text: &str, out: &mut heapless::String<128>) {
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        let character = match character {
            '\\' => match characters.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some(other) => other,
                None => break,
            },
            other => other,
        };
        if out.push(character).is_err() {
            return;
        }
    }
}

/// The printf subset of `Message` (spec "Message"): `%%`, and `%d %i %u %x %X %o %b %c`
/// (`%s` and `%f` print the value in decimal) with a `0` flag, a width, a precision and
/// `l`/`ll`/`L` ignored (every value is 64 bits). Text beyond 128 bytes is cut.
fn printf(format: &str, values: &[u64], out: &mut heapless::String<128>) {
    let mut values = values.iter().copied();
    let mut characters = format.chars().peekable();
    while let Some(character) = characters.next() {
        if character != '%' {
            let _ = out.push(character);
            continue;
        }
        let zero = characters.next_if_eq(&'0').is_some();
        let mut width = 0usize;
        while let Some(digit) = characters.peek().and_then(|c| c.to_digit(10)) {
            width = (width * 10 + digit as usize).min(64);
            characters.next();
        }
        if characters.next_if_eq(&'.').is_some() {
            while characters.next_if(char::is_ascii_digit).is_some() {}
        }
        while characters.next_if(|c| matches!(c, 'l' | 'L')).is_some() {}
        let mut value = || values.next().unwrap_or(0);
        let mut digits = heapless::String::<72>::new();
        let _ = match characters.next() {
            Some('%') => write!(digits, "%"),
            Some('x') => write!(digits, "{:x}", value()),
            Some('X') => write!(digits, "{:X}", value()),
            Some('o') => write!(digits, "{:o}", value()),
            Some('b') => write!(digits, "{:b}", value()),
            Some('c') => write!(digits, "{}", char::from(value() as u8)),
            Some('d' | 'i') => write!(digits, "{}", value() as i64),
            Some(_) => write!(digits, "{}", value()),
            None => Ok(()),
        };
        for _ in digits.len()..width {
            let _ = out.push(if zero { '0' } else { ' ' });
        }
        let _ = out.push_str(&digits);
    }
}

/// The offset of the body of standard sequence `name` in [`crate::STANDARD`].
fn find_standard(name: &str) -> Option<usize> {
    find_body(crate::STANDARD, name)
}

/// Where the body of `sequence name` starts in a text already checked: each sequence's
/// header is read, its body skipped by its braces.
fn find_body(text: &str, name: &str) -> Option<usize> {
    let mut offset = 0;
    let next = |offset: &mut usize| -> Option<Token<'_>> {
        let start = lexer::skip_space(text, *offset).ok()?;
        let (token, end) = lexer::token(text, start).ok()?;
        *offset = end;
        Some(token)
    };
    loop {
        match next(&mut offset)? {
            Token::Name("sequence") => {}
            Token::End => return None,
            _ => continue,
        }
        let Token::Name(found) = next(&mut offset)? else {
            return None;
        };
        let mut token = next(&mut offset)?;
        if let Token::Text(_) = token {
            token = next(&mut offset)?;
        }
        if token != Token::Symbol(Symbol::OpenBrace) {
            return None;
        }
        if found == name {
            return Some(offset);
        }
        let mut depth = 1;
        while depth > 0 {
            match next(&mut offset)? {
                Token::Symbol(Symbol::OpenBrace) => depth += 1,
                Token::Symbol(Symbol::CloseBrace) => depth -= 1,
                Token::End => return None,
                _ => {}
            }
        }
    }
}

/// Where `part` (a slice of `text`, or empty) lies in `text`.
fn range(text: &str, part: &str) -> core::ops::Range<u32> {
    if part.is_empty() {
        return 0..0;
    }
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    start as u32..(start + part.len()) as u32
}

type Index = (
    heapless::Vec<Entry, MAX_SEQUENCES>,
    heapless::Vec<Debugvar, MAX_DEBUGVARS>,
);

/// Check a description's text; its sequences (where their bodies start) and debugvars.
pub fn index(text: &str) -> Result<Index, Error<Infallible>> {
    let mut target = NoTarget;
    let mut machine = Machine::new(text, &mut target, false, Section::Sequence);
    let mut entries: heapless::Vec<Entry, MAX_SEQUENCES> = heapless::Vec::new();
    loop {
        match machine.next()? {
            (Token::End, _) => break,
            (Token::Name("debugvars"), _) => {
                machine.expect(Symbol::OpenBrace, "expected { after debugvars")?;
                machine.section = Section::Debugvars;
                machine.run = true;
                while !machine.is_next(Symbol::CloseBrace)? {
                    machine.statement()?;
                }
                machine.next()?;
                machine.section = Section::Sequence;
                machine.run = false;
            }
            (Token::Name("sequence"), _) => {
                let name = machine.expect_name("expected the sequence's name")?;
                let mut processor = "";
                if let (Token::Text(text), _, end) = machine.peek()? {
                    processor = text;
                    machine.offset = end;
                }
                machine.expect(Symbol::OpenBrace, "expected { after the sequence's name")?;
                let same = |entry: &Entry| {
                    crate::slice(text, &entry.name) == name
                        && crate::slice(text, &entry.processor) == processor
                };
                if entries.iter().any(same) {
                    return Err(Error::Duplicate(crate::name(name)));
                }
                let entry = Entry {
                    name: range(text, name),
                    processor: range(text, processor),
                    body: machine.offset as u32,
                };
                entries
                    .push(entry)
                    .map_err(|_| Error::TooLarge("over 64 sequences"))?;
                machine.sequence = name;
                machine.body()?;
            }
            (_, start) => return machine.syntax(start, "expected sequence or debugvars"),
        }
    }
    let debugvars = machine
        .debugvars
        .iter()
        .map(|&(name, value)| Debugvar {
            name: range(text, name),
            value,
        })
        .collect();
    Ok((entries, debugvars))
}

/// Apply `overrides` (`name = value;` statements) to the debugvars of `description`.
pub fn assign_debugvars(
    description: &str,
    overrides: &str,
    values: &mut heapless::Vec<Debugvar, MAX_DEBUGVARS>,
) -> Result<(), Error<Infallible>> {
    let mut target = NoTarget;
    let mut machine = Machine::new(overrides, &mut target, true, Section::Overrides);
    for var in values.iter() {
        let _ = machine
            .debugvars
            .push((crate::slice(description, &var.name), var.value));
    }
    while machine.peek()?.0 != Token::End {
        machine.statement()?;
    }
    for (var, (_, value)) in values.iter_mut().zip(machine.debugvars.iter()) {
        var.value = *value;
    }
    Ok(())
}

/// Run sequence `name` of `sequences`, or the standard one of that name, on `target`.
pub fn run<X: Target>(
    sequences: &Sequences,
    name: &str,
    processor: &str,
    target: &mut X,
    context: &Context,
) -> Result<(), Error<X::Error>> {
    let (text, body) = match sequences.find(name, processor) {
        Some(body) => (sequences.text(), body),
        None => (
            crate::STANDARD,
            find_standard(name).ok_or_else(|| Error::NoSuchSequence(crate::name(name)))?,
        ),
    };
    let mut machine = Machine::new(text, target, true, Section::Sequence);
    machine.sequences = Some(sequences);
    machine.processor = processor;
    machine.context = *context;
    for (name, value) in sequences.debugvars() {
        let _ = machine.debugvars.push((name, value));
    }
    machine.offset = body;
    machine.sequence = name;
    machine.body()
}
