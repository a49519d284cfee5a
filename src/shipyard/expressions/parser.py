"""Builds the syntax tree from tokens: a precedence-climbing parser with GitHub's rules. Pure.

Precedence, loosest first: ``||``, ``&&``, ``== !=``, ``< <= > >=``, ``!``, then ``.``/``[]``
after a context, a function call or a parenthesised group. Depth is counted as GitHub counts it
(each group, function argument, ``!``, ``&&``/``||`` chain and property or index access), so
recursion stops at :data:`limits.MAX_DEPTH` however the input is nested.

Context names are checked later, against the contexts of an evaluation or the availability table;
the parser only records them (with functions) in the order GitHub's parser would check them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shipyard.core import suggest
from shipyard.expressions import errors, functions, lexer, limits, syntax

Kind = lexer.TokenKind

_EQUALITY = frozenset({"==", "!="})
_ORDERING = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True, slots=True)
class Reference:
    """A context or function the expression names: as written, where, and which of the two."""

    name: str
    start: int
    function: bool


@dataclass(frozen=True, slots=True)
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
        if self.peek().kind is Kind.END:
            return SyntaxTree(None, ())
        root = self.expression()
        if self.peek().kind is not Kind.END:
            raise self.unexpected(self.peek())
        return SyntaxTree(root, tuple(self.references))

    def expression(self) -> syntax.Node:
        self.enter()
        node = self.logical(Kind.OR)
        self.depth -= 1
        return node

    def logical(self, operator: Kind) -> syntax.Node:
        operand = self.equality if operator is Kind.AND else self.and_chain
        node = operand()
        if self.peek().kind is not operator:
            return node
        start = self.peek().start
        self.enter()
        operands = [node]
        while self.match(operator):
            operands.append(operand())
        self.depth -= 1
        return syntax.Logical("&&" if operator is Kind.AND else "||", tuple(operands), start)

    def and_chain(self) -> syntax.Node:
        return self.logical(Kind.AND)

    def equality(self) -> syntax.Node:
        return self.chain(_EQUALITY, self.comparison)

    def comparison(self) -> syntax.Node:
        return self.chain(_ORDERING, self.unary)

    def chain(self, operators: frozenset[str], operand: Callable[[], syntax.Node]) -> syntax.Node:
        first = operand()
        rest: list[tuple[str, syntax.Node, int]] = []
        while self.peek().kind is Kind.OPERATOR and self.peek().text in operators:
            token = self.advance()
            rest.append((token.text, operand(), token.start))
        return syntax.Comparison(first, tuple(rest)) if rest else first

    def unary(self) -> syntax.Node:
        if not self.match(Kind.BANG):
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
            if self.match(Kind.LEFT_BRACKET):
                start = self.previous().start
                index = None if self.match(Kind.STAR) else self.expression()
                self.consume(Kind.RIGHT_BRACKET)
                self.enter()
                entered += 1
                node = syntax.Index(node, index, start)
            elif self.match(Kind.DOT):
                start = self.previous().start
                self.enter()
                entered += 1
                if self.match(Kind.IDENTIFIER):
                    node = syntax.Member(node, self.previous().text, start)
                elif self.match(Kind.STAR):
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
        if token.kind is Kind.IDENTIFIER:
            self.advance()
            if not self.match(Kind.LEFT_PAREN):
                self.references.append(Reference(token.text, token.start, function=False))
                return syntax.NamedValue(token.text, token.start), True
            arguments: list[syntax.Node] = []
            while not self.match(Kind.RIGHT_PAREN):
                arguments.append(self.expression())
                if self.peek().kind is not Kind.RIGHT_PAREN:
                    self.consume(Kind.COMMA)
            self.check_call(token, len(arguments))
            self.references.append(Reference(token.text, token.start, function=True))
            return syntax.Call(token.text, tuple(arguments), token.start), True
        if token.kind is Kind.LITERAL:
            self.advance()
            return syntax.Literal(token.value, token.start), False
        if token.kind is Kind.LEFT_PAREN:
            self.advance()
            node = self.expression()
            self.consume(Kind.RIGHT_PAREN)
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
        if token.kind is not Kind.END:
            self.offset += 1
        return token

    def match(self, kind: Kind) -> bool:
        if self.tokens[self.offset].kind is kind and kind is not Kind.END:
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
        if token.kind is Kind.END:
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
