"""Builds the syntax tree from tokens: a precedence-climbing parser with GitHub's rules. Pure.

Precedence, loosest first: ``||``, ``&&``, ``== !=``, ``< <= > >=``, ``!``, then ``.``/``[]``
after a context, a function call or a parenthesised group. Depth is counted as GitHub counts it
(each group, function argument, ``!``, ``&&``/``||`` chain and property or index access), so
recursion stops at :data:`limits.MAX_DEPTH` however the input is nested.

Context names are checked later, against the contexts of an evaluation or the availability table;
the parser only records them (with functions) in the order GitHub's parser would check them.
"""

from __future__ import annotations

from shipyard.core import suggest
from shipyard.core.frozen import frozen
from shipyard.expressions import errors, functions, lexer, limits, syntax

Kind = lexer.TokenKind
# Enum members as module constants: looking one up on the class costs ~250 ns in 3.11.
_END = Kind.END
_OPERATOR = Kind.OPERATOR
_AND = Kind.AND
_OR = Kind.OR
_BANG = Kind.BANG
_LEFT_BRACKET = Kind.LEFT_BRACKET
_RIGHT_BRACKET = Kind.RIGHT_BRACKET
_STAR = Kind.STAR
_DOT = Kind.DOT
_IDENTIFIER = Kind.IDENTIFIER
_LEFT_PAREN = Kind.LEFT_PAREN
_RIGHT_PAREN = Kind.RIGHT_PAREN
_COMMA = Kind.COMMA
_LITERAL = Kind.LITERAL

# Binding levels of the binary operators, loosest first.
_OR_LEVEL = 1
_AND_LEVEL = 2
_EQUALITY_LEVEL = 3
_ORDERING_LEVEL = 4
_LEVELS = {"==": _EQUALITY_LEVEL, "!=": _EQUALITY_LEVEL}
_LEVELS.update({"<": _ORDERING_LEVEL, "<=": _ORDERING_LEVEL})
_LEVELS.update({">": _ORDERING_LEVEL, ">=": _ORDERING_LEVEL})


def _level(token: lexer.Token) -> int | None:
    if token.kind is _OPERATOR:
        return _LEVELS[token.text]
    if token.kind is _AND:
        return _AND_LEVEL
    if token.kind is _OR:
        return _OR_LEVEL
    return None


@frozen
class Reference:
    """A context or function the expression names: as written, where, and which of the two."""

    name: str
    start: int
    function: bool


@frozen
class SyntaxTree:
    """A parsed expression: its root (None when the text is empty) and what it references."""

    root: syntax.Node | None
    references: tuple[Reference, ...]


class ParseFailure(errors.ExpressionError):
    """A parsing error that remembers the names referenced before it.

    GitHub reports an unknown context as soon as its parser meets it, before a later syntax
    error; evaluation, which knows the contexts, uses ``references`` to report the same error.
    """

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        position: int,
        references: tuple[Reference, ...],
        hint: str | None = None,
    ) -> None:
        super().__init__(
            message, kind="parsing", expression=expression, position=position, hint=hint
        )
        self.references = references


def names_hint(name: str, candidates: list[str], noun: str) -> str:
    """``did you mean `x`? valid <noun>s: `a`, `b``` for an unknown name."""
    listing = ", ".join(f"`{candidate}`" for candidate in sorted(set(candidates)))
    close = suggest.closest(name, candidates)
    listed = f"valid {noun}s: {listing}" if listing else f"no {noun}s are available here"
    if close is not None and close.lower() != name.lower():
        return f"did you mean `{close}`? {listed}"
    return listed


def parse(expression: str) -> SyntaxTree:
    """The syntax tree of an expression (without ``${{ }}``). Raises ExpressionError."""
    tokens = lexer.tokenize(expression)
    return _Parser(expression, tokens).parse()


class _Parser:
    def __init__(self, expression: str, tokens: list[lexer.Token]) -> None:
        self.text = expression
        self.tokens = tokens
        self.offset = 0
        self.depth = 0
        self.references: list[Reference] = []

    # -- the grammar, loosest binding first -------------------------------------------------

    def parse(self) -> SyntaxTree:
        if self.peek().kind is _END:
            return SyntaxTree(None, ())
        root = self.expression()
        if self.peek().kind is not _END:
            raise self.unexpected(self.peek())
        return SyntaxTree(root, tuple(self.references))

    def expression(self) -> syntax.Node:
        self.enter()
        node = self.binary(_OR_LEVEL)
        self.depth -= 1
        return node

    def binary(self, least: int) -> syntax.Node:
        """Operands joined by operators binding at least as tightly as ``least``."""
        node = self.unary()
        while True:
            token = self.peek()
            level = _level(token)
            if level is None or level < least:
                return node
            if level <= _AND_LEVEL:  # && and ||: one n-ary node per chain, one level of depth
                self.enter()
                operands = [node]
                while self.match(token.kind):
                    operands.append(self.binary(level + 1))
                self.depth -= 1
                node = syntax.Logical(token.text, tuple(operands), token.start)
            else:  # == != or < <= > >=: a left-associative chain, evaluated in a loop
                rest: list[tuple[str, syntax.Node, int]] = []
                while _level(self.peek()) == level:
                    operator = self.advance()
                    rest.append((operator.text, self.binary(level + 1), operator.start))
                node = syntax.Comparison(node, tuple(rest))

    def unary(self) -> syntax.Node:
        if not self.match(_BANG):
            return self.postfix()
        start = self.previous().start
        self.enter()
        operand = self.unary()
        self.depth -= 1
        return syntax.Not(operand, start)

    def postfix(self) -> syntax.Node:
        node, accessible = self.operand()
        entered = 0
        while accessible:
            if self.match(_LEFT_BRACKET):
                start = self.previous().start
                index = None if self.match(_STAR) else self.expression()
                self.consume(_RIGHT_BRACKET)
                self.enter()
                entered += 1
                node = syntax.Index(node, index, start)
            elif self.match(_DOT):
                start = self.previous().start
                self.enter()
                entered += 1
                if self.match(_IDENTIFIER):
                    node = syntax.Member(node, self.previous().text, start)
                elif self.match(_STAR):
                    node = syntax.Member(node, None, start)
                else:
                    raise self.unexpected(self.peek())
            else:
                break
        self.depth -= entered
        return node

    def operand(self) -> tuple[syntax.Node, bool]:
        """A context, a call, a literal or a group, and whether ``.``/``[]`` may follow it."""
        token = self.peek()
        if token.kind is _IDENTIFIER:
            self.advance()
            if not self.match(_LEFT_PAREN):
                self.references.append(Reference(token.text, token.start, function=False))
                return syntax.NamedValue(token.text, token.start), True
            arguments: list[syntax.Node] = []
            while not self.match(_RIGHT_PAREN):
                arguments.append(self.expression())
                if self.peek().kind is not _RIGHT_PAREN:
                    self.consume(_COMMA)
            self.check_call(token, len(arguments))
            self.references.append(Reference(token.text, token.start, function=True))
            return syntax.Call(token.text, tuple(arguments), token.start), True
        if token.kind is _LITERAL:
            self.advance()
            return syntax.Literal(token.value, token.start), False
        if token.kind is _LEFT_PAREN:
            self.advance()
            node = self.expression()
            self.consume(_RIGHT_PAREN)
            return node, True
        raise self.unexpected(token)

    def check_call(self, token: lexer.Token, count: int) -> None:
        spec = functions.FUNCTIONS.get(token.text.lower())
        if spec is None:
            names = [known.name for known in functions.FUNCTIONS.values()]
            raise self.failure(
                "Unrecognized function", token, hint=names_hint(token.text, names, "function")
            )
        arity = f"{spec.name}() takes {spec.min_args} to {spec.max_args} arguments"
        if spec.min_args == spec.max_args:
            arity = f"{spec.name}() takes {spec.min_args} argument" + "s" * (spec.min_args != 1)
        if count < spec.min_args:
            raise self.failure("Too few parameters supplied", token, hint=arity)
        if count > spec.max_args:
            raise self.failure("Too many parameters supplied", token, hint=arity)
        if spec.name == "case" and count % 2 == 0:
            raise self.failure(
                "Even number of parameters supplied, requires an odd number of parameters",
                token,
                hint="case(condition, value, ..., default): pairs, then one default value",
            )

    # -- tokens --------------------------------------------------------------------------------

    def peek(self) -> lexer.Token:
        return self.tokens[self.offset]

    def previous(self) -> lexer.Token:
        return self.tokens[self.offset - 1]

    def advance(self) -> lexer.Token:
        token = self.tokens[self.offset]
        if token.kind is not _END:
            self.offset += 1
        return token

    def match(self, kind: Kind) -> bool:
        if self.tokens[self.offset].kind is kind and kind is not _END:
            self.offset += 1
            return True
        return False

    def consume(self, kind: Kind) -> None:
        if not self.match(kind):
            raise self.unexpected(self.peek())

    def enter(self) -> None:
        self.depth += 1
        if self.depth > limits.MAX_DEPTH:
            token = self.peek()
            raise ParseFailure(
                errors.located(
                    f"Exceeded max expression depth {limits.MAX_DEPTH}",
                    self.text,
                    token.start,
                ),
                expression=self.text,
                position=errors.utf16_position(self.text, token.start),
                references=tuple(self.references),
                hint=f"expressions nest at most {limits.MAX_DEPTH} levels deep",
            )

    # -- errors --------------------------------------------------------------------------------

    def unexpected(self, token: lexer.Token) -> ParseFailure:
        if token.kind is _END:
            return self.failure("Unexpected end of expression", self.previous())
        return self.failure("Unexpected symbol", token)

    def failure(
        self, description: str, token: lexer.Token, hint: str | None = None
    ) -> ParseFailure:
        return ParseFailure(
            errors.located(f"{description}: '{token.text}'", self.text, token.start),
            expression=self.text,
            position=errors.utf16_position(self.text, token.start),
            references=tuple(self.references),
            hint=hint,
        )
