// Delegated click handler of the sources panel: works for every re-render of its HTML. Sends
// only the two ids; the server resolves them through Assistant.document() with the caller's
// access rights.
element.addEventListener('click', (event) => {
  const button = event.target.closest('[data-doc]');
  if (!button) return;
  event.preventDefault();
  trigger('click', {doc_id: button.dataset.doc || '', chunk_id: button.dataset.chunk || ''});
});
