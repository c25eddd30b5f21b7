// The console's progressive enhancements; every page works without them.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  // A secret shown once gets a button that copies it.
  for (const secret of document.querySelectorAll('[data-copy]')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary copy';
    button.textContent = 'Copy';
    button.addEventListener('click', async () => {
      await navigator.clipboard.writeText(secret.textContent.trim());
      button.textContent = 'Copied';
    });
    secret.after(button);
  }
  // Dangerous buttons ask once more.
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Times in the reader's own time zone (the page shows UTC).
  for (const time of document.querySelectorAll('time[datetime]')) {
    const date = new Date(time.getAttribute('datetime'));
    if (!Number.isNaN(date.getTime())) {
      time.title = time.textContent;
      time.textContent = date.toLocaleString();
    }
  }
  // Filter forms drop their empty fields, so the address says only what was chosen.
  for (const form of document.querySelectorAll('form.filters')) {
    form.addEventListener('submit', () => {
      for (const field of form.querySelectorAll('input, select')) if (!field.value) field.disabled = true;
    });
  }
});
