"""How a public form announces its errors, checked in the browser.

After a refused submission the page has, above the form, one summary (``#form-errors``,
role="alert") listing each error with a link to its field; the focus is on that summary
so a screen reader reads it first. Each field with an error is ``aria-invalid`` and
points, through ``aria-describedby`` (a radio group: on its fieldset), at the element
that holds its error text.
"""

from __future__ import annotations


def assert_error_summary(page, labels: list[str]) -> None:
    summary = page.locator("#form-errors")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    assert summary.evaluate("el => el === document.activeElement"), "the summary has the focus"
    form = page.locator("main form[method=post]").last
    assert summary.evaluate(
        "(el, form) => !!(el.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING)",
        form.element_handle(),
    ), "the summary comes before the form"
    for label in labels:
        links = summary.get_by_role("link", name=label, exact=True)
        assert links.count(), f"the summary links to “{label}”: {summary.inner_text()}"
        for index in range(links.count()):
            _assert_link_reaches_field(page, links.nth(index))


def _assert_link_reaches_field(page, link) -> None:
    target_id = link.get_attribute("href").removeprefix("#")
    field = page.locator(f"[id='{target_id}']")
    assert field.count() == 1, f"the summary links to #{target_id}, which is not on the page"
    assert field.get_attribute("aria-invalid") == "true", f"#{target_id} is not aria-invalid"
    # A radio group is described as a whole, on its fieldset.
    described = field.evaluate(
        """el => [el, el.closest('fieldset[aria-describedby]')]
            .filter(Boolean)
            .flatMap(node => (node.getAttribute('aria-describedby') || '').split(/\\s+/))
            .filter(Boolean)"""
    )
    texts = [
        page.locator(f"[id='{ref}']").inner_text()
        for ref in described
        if page.locator(f"[id='{ref}']").count()
    ]
    error = link.evaluate("a => a.parentElement.textContent.split('：').slice(1).join('：')")
    assert any(error.strip() and error.strip() in text for text in texts), (
        f"#{target_id}'s aria-describedby ({described}) does not reach its error “{error}”"
    )
    # Following the link lands on the field.
    link.click()
    assert field.evaluate("el => el === document.activeElement"), f"#{target_id} is not focused"
