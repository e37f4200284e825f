import './assets/main.css'

import { createPinia } from 'pinia'
import { createApp } from 'vue'

import { setUnauthorizedHandler } from './api/client'
import App from './App.vue'
import router from './router'
import { useAuthStore } from './stores/auth'

const app = createApp(App)
const pinia = createPinia()

app.use(pinia)
app.use(router)

// A session that expires while the app is open: back to sign-in, then to where the user was.
setUnauthorizedHandler(() => {
  const auth = useAuthStore(pinia)
  const route = router.currentRoute.value
  if (!auth.user || route.meta.public) return
  auth.forget()
  void router.push({ name: 'sign-in', query: { next: route.fullPath } })
})

app.mount('#app')
