"""Todo tools. Each is scoped to the caller (ctx.scope, from verified context, never the plan).

Titles are data: stored verbatim, never interpreted.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.errors import NotFound, ToolError
from core.plan import Todo, ToolResult
from core.tool import Preview, Tool, ToolContext

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Number = Annotated[int, Field(ge=1, le=10**9, description="The todo's number, as shown (#3 → 3)")]


class AddTodoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title = Field(description="What to do, in the user's own words")


class ListTodosInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_done: bool = Field(default=False, description="Also list completed todos")


class TodoNumberInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Number


def line(todo: Todo) -> str:
    return f"#{todo.number} {'[x]' if todo.done else '[ ]'} {todo.title}"


def add_todo(args: AddTodoInput, ctx: ToolContext) -> ToolResult:
    todo = ctx.store.add_todo(ctx.scope, args.title)
    return ToolResult(text=f"Added todo #{todo.number}: {todo.title}", value=todo.number,
                      todo_number=todo.number)  # fmt: skip


def list_todos(args: ListTodosInput, ctx: ToolContext) -> ToolResult:
    found: list[Todo] = ctx.store.list_todos(ctx.scope, args.include_done)
    if not found:
        text = "You have no todos." if args.include_done else "You have no open todos."
    else:
        text = "Your todos:\n" + "\n".join(line(todo) for todo in found)
    numbers = [todo.number for todo in found]
    return ToolResult(text=text, value=len(found), todo_numbers=numbers)


def _existing(ctx: ToolContext, number: int) -> Todo:
    try:
        todo: Todo = ctx.store.get_todo(ctx.scope, number)
    except NotFound as error:
        raise ToolError(str(error)) from error
    return todo


def get_todo(args: TodoNumberInput, ctx: ToolContext) -> ToolResult:
    todo = _existing(ctx, args.number)
    return ToolResult(text=line(todo), value=todo.number, todo_number=todo.number)


def complete_todo(args: TodoNumberInput, ctx: ToolContext) -> ToolResult:
    if _existing(ctx, args.number).done:
        text = f"Todo #{args.number} was already done."
    else:
        todo = ctx.store.complete_todo(ctx.scope, args.number)
        text = f"Completed todo #{todo.number}: {todo.title}"
    return ToolResult(text=text, value=args.number, todo_number=args.number)


def delete_todo(args: TodoNumberInput, ctx: ToolContext) -> ToolResult:
    todo = _existing(ctx, args.number)
    ctx.store.delete_todo(ctx.scope, args.number)
    return ToolResult(text=f"Deleted todo #{todo.number}: {todo.title}", value=todo.number)


def delete_preview(args: TodoNumberInput, ctx: ToolContext) -> Preview:
    todo = _existing(ctx, args.number)
    return Preview(f"Delete todo #{todo.number}?", line(todo))


# Their phrasings (titles, "the first one", a todo named by its words) are the pattern
# planner's own grammar (core.planners.pattern), so they carry examples but no `patterns`.
TOOLS = [
    Tool("add_todo", AddTodoInput, add_todo, "Add a todo for the user.", writes=True,
         examples=("add a todo to buy milk",)),
    Tool("list_todos", ListTodosInput, list_todos, "List the user's todos, sorted by number.",
         private_output=True, examples=("list my todos",)),
    Tool("get_todo", TodoNumberInput, get_todo, "Show one of the user's todos by number.",
         reference_args=("number",), private_output=True),
    Tool("complete_todo", TodoNumberInput, complete_todo, "Mark one of the user's todos done.",
         writes=True, reference_args=("number",), private_output=True,
         examples=("complete todo 2",)),
    Tool("delete_todo", TodoNumberInput, delete_todo, "Delete one of the user's todos.",
         destructive=True, writes=True, reference_args=("number",), private_output=True,
         preview=delete_preview, examples=("delete todo 1",)),
]  # fmt: skip
