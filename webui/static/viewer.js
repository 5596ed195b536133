// The source viewer: scroll the marked passage (#pq-hit) into view on every new document.
const go = () => {
  const hit = element.querySelector('#pq-hit');
  if (hit) setTimeout(() => hit.scrollIntoView({block: 'center'}), 50);
};
watch('value', go);
go();
