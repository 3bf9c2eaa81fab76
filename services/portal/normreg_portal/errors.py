"""What can go wrong for a reader, each with the HTTP status and the sentence the page shows."""

from __future__ import annotations


class PortalError(Exception):
    status = 500
    title = "出错了"
    # What the page says when the raiser says nothing more.
    default = ""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.default)
        self.message = message or self.default


class NotFound(PortalError):
    """Missing, hidden, internal or malformed: one page for all, so a URL reveals nothing."""

    status = 404
    title = "页面不存在"
    default = "您要找的文件或页面不存在，或尚未公开。"


class BadRequest(PortalError):
    status = 400
    title = "请求有误"

    def __init__(self, message: str = "", *, field: str = "") -> None:
        """`field`: the request field a service refused (its first field violation), when it said."""
        super().__init__(message)
        self.field = field


class Conflict(PortalError):
    status = 409
    title = "无法提交"


class TooMany(PortalError):
    status = 429
    title = "提交过于频繁"


class TooLarge(PortalError):
    status = 413
    title = "内容过长"


class TooSlowToSend(PortalError):
    """A form post whose body stopped arriving."""

    status = 408
    title = "提交超时"
    default = "表单内容没有及时送达，请检查网络后重新提交。"


class Abandoned(PortalError):
    """A client that left before sending the body it declared: no one reads the answer."""

    status = 400
    title = "提交未完成"
    default = "表单内容没有完整送达，请重新提交。"


class Forbidden(PortalError):
    status = 403
    title = "表单已过期"


class TooSlow(PortalError):
    """The search service stopped a search at its time budget: the search, not the service, is at fault."""

    # The portal is a gateway whose upstream took too long.
    status = 504
    title = "查询用时过长"
    default = "这次查询用时过长，已经停止。请增加关键词，或按文件类型、制定机关、日期缩小范围后再查。"


class Unavailable(PortalError):
    status = 503
    title = "服务暂时不可用"
    default = "查询服务暂时不可用，请稍后再试。"
